import Foundation
import XCTest

/// The weights trained here ship with the executable: with an empty model folder, `tween` still runs them in every
/// command, and `tween models` shows them installed.
final class ShippedModelTests: XCTestCase {
    var scratch = ""
    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "tween-shipped-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch + "/empty", withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    static let shipped = ["superslomo", "sepconv", "dvf"]

    func testShippedModelsWorkOutOfTheBox() throws {
        let env = ["TWEEN_WEIGHTS": scratch + "/empty"]
        let models = try JSONSerialization.jsonObject(with: Data(try tween(["models", "--json"], environment: env).stdout.utf8)) as! [[String: Any]]
        for name in Self.shipped {
            XCTAssertEqual(models.first { $0["name"] as? String == name }?["installed"] as? Bool, true, name)
            // Slow motion (t = ¼, ½, ¾ from one flow pass per pair), on small inputs: the CLI tests run a debug build.
            try FileManager.default.createDirectory(atPath: scratch + "/\(name)-slow", withIntermediateDirectories: true)
            let slow = try tween([fixture("pngseq"), "-o", scratch + "/\(name)-slow/f%03d.png", "--input-fps", "10", "--slowmo", "4",
                                  "--model", name, "--quiet"], environment: env)
            XCTAssertEqual(slow.status, 0, slow.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch + "/\(name)-slow").count, 40)
            // Scored on the fixture triplets (synthetic test patterns with sharp one-pixel edges): above 20 dB for both.
            // Super SloMo also beats repeating a frame; the shipped SepConv does not on these patterns (22.4 against
            // 23.9 dB; its benchmark scores are in the README and docs/BENCHMARKS.md).
            let eval = try tween(["eval", fixture("triplets"), "--model", name, "--json"], environment: env)
            let nearest = try tween(["eval", fixture("triplets"), "--model", "nearest", "--json"], environment: env)
            let psnr = { (r: CLIResult) in (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["psnr"] as! Double }
            XCTAssertGreaterThan(try psnr(eval), 20, name)
            if name == "superslomo" { XCTAssertGreaterThan(try psnr(eval), try psnr(nearest), name) }
            // 2× through batch (one clip in a folder).
            try FileManager.default.createDirectory(atPath: scratch + "/in", withIntermediateDirectories: true)
            try? FileManager.default.copyItem(atPath: fixture("lossless.mkv"), toPath: scratch + "/in/a.mkv")
            let batch = try tween(["batch", scratch + "/in", "-o", scratch + "/out-\(name)", "--factor", "2", "--codec", "ffv1",
                                   "--model", name, "--quiet"], environment: env)
            XCTAssertEqual(batch.status, 0, batch.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/out-\(name)/a.mkv"))
        }
    }

    /// The default is RIFE v4.25 once its weights are installed, else the shipped Super SloMo: a fresh install
    /// converts without set-up.
    func testDefaultModelIsTheBestInstalled() throws {
        func defaultModel(_ env: [String: String]) throws -> [String] {
            let models = try JSONSerialization.jsonObject(with: Data(try tween(["models", "--json"], environment: env).stdout.utf8)) as! [[String: Any]]
            return models.filter { $0["default_model"] as? Bool == true }.map { $0["name"] as! String }
        }
        let empty = ["TWEEN_WEIGHTS": scratch + "/empty"]
        XCTAssertEqual(try defaultModel(empty), ["superslomo"])
        let convert = try tween([fixture("pngseq"), "-o", scratch + "/d%03d.png", "--input-fps", "10", "--factor", "2", "--json"],
                                environment: empty)
        XCTAssertEqual(convert.status, 0, convert.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(convert.stdout.utf8)) as! [String: Any])["model"] as? String, "superslomo")
        // Only the listing is asked here, which looks for the file without reading it.
        try FileManager.default.createDirectory(atPath: scratch + "/rife", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: scratch + "/rife/rife-v4.25.safetensors", contents: Data())
        XCTAssertEqual(try defaultModel(["TWEEN_WEIGHTS": scratch + "/rife"]), ["rife-v4.25"])
        // A conversion then reads it: a broken file is an error naming it, not a silent fall-back.
        let broken = try tween([fixture("pngseq"), "-o", scratch + "/e%03d.png", "--input-fps", "10", "--factor", "2"],
                               environment: ["TWEEN_WEIGHTS": scratch + "/rife"])
        XCTAssertEqual(broken.status, 1)
        XCTAssertEqual(broken.stderrLines.count, 1, broken.stderr)
        XCTAssertTrue(broken.stderr.contains(scratch + "/rife/rife-v4.25.safetensors"), broken.stderr)
    }
}
