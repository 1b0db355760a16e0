import Foundation
import XCTest

/// `tween train` end to end on the sample clip: weights and a checkpoint appear, they load in `eval`, a second run
/// refuses to overwrite the checkpoint, and --resume continues it.
final class TrainCommandTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "tween-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch + "/media", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("sample.mp4"), toPath: scratch + "/media/sample.mp4")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    func train(_ model: String, steps: Int, extra: [String] = []) throws -> CLIResult {
        try tween(["train", "--model", model, "--width", "4", "--kernel", "7", "--data", scratch + "/media", "--steps", "\(steps)",
                   "--batch", "1", "--crop", "64", "--cache-samples", "4", "--validate-every", "2", "--validation-samples", "2", "--checkpoint-every", "2",
                   "--out", scratch + "/\(model).safetensors"] + extra)
    }

    func testTrainWritesWeightsThatEvalLoadsAndResumes() throws {
        for model in ["superslomo", "sepconv"] {
            let first = try train(model, steps: 2)
            XCTAssertEqual(first.status, 0, first.stderr)
            XCTAssertTrue(first.stderr.contains("validation PSNR"), first.stderr)
            // Crops start at half of --crop (step 2 of 2 is at 50% of the steps; full size comes at 70%).
            XCTAssertTrue(first.stderr.contains("step 2/2  crop 32"), first.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/\(model).safetensors"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/\(model).checkpoint.safetensors"))
            let eval = try tween(["eval", fixture("triplets"), "--model", model, "--weights-dir", scratch, "--json"])
            XCTAssertEqual(eval.status, 0, eval.stderr)
            let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
            XCTAssertGreaterThan(report["psnr"] as! Double, 5)

            let again = try train(model, steps: 3)
            XCTAssertEqual(again.status, 2)
            XCTAssertTrue(again.stderr.contains("a checkpoint exists; pass --resume"), again.stderr)
            // A resumed run can keep full-size crops instead of restarting the growth.
            let resumed = try train(model, steps: 3, extra: ["--resume", "--grow-crops-until", "0"])
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertTrue(resumed.stderr.contains("resumed at step 2"), resumed.stderr)
            XCTAssertTrue(resumed.stderr.contains("step 3/3  crop 64"), resumed.stderr)
        }
    }

    func testTrainWithoutMediaIsAClearError() throws {
        try FileManager.default.createDirectory(atPath: scratch + "/nothing", withIntermediateDirectories: true)
        let r = try tween(["train", "--model", "sepconv", "--data", scratch + "/nothing", "--steps", "1", "--out", scratch + "/x.safetensors"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderrLines, ["tween: error: \(scratch)/nothing: no training videos or photos found"])
    }
}
