import Foundation
import XCTest

/// Scripts/install.sh puts the command, its bundled weights and shell completions under a prefix, and the installed
/// command runs from any folder with the weights trained here.
final class InstallTests: XCTestCase {
    func testInstalledCommandRunsFromAnotherFolderWithItsBundledWeights() throws {
        let scratch = makeScratchFolder("install")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let build = (tweenBinary as NSString).deletingLastPathComponent
        let prefix = scratch + "/prefix"
        let install = try runTool(repoRoot + "/Scripts/install.sh", ["--prefix", prefix, "--from", build, "--no-man"])
        XCTAssertEqual(install.status, 0, install.stderr)
        for file in ["bin/tween", "lib/tween/Tween_tween.resources/Weights/sepconv.safetensors",
                     "share/bash-completion/completions/tween", "share/zsh/site-functions/_tween",
                     "share/fish/vendor_completions.d/tween.fish"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + "/" + file), file)
        }
        let completion = try String(contentsOfFile: prefix + "/share/bash-completion/completions/tween", encoding: .utf8)
        XCTAssertTrue(completion.contains("--slowmo"), "the completions know the options")

        // From another folder, with an empty model folder: the shipped models are found beside the installed binary.
        let empty = scratch + "/models"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        let models = try runTool(prefix + "/bin/tween", ["models", "--json"], cwd: scratch, environment: ["TWEEN_WEIGHTS": empty])
        XCTAssertEqual(models.status, 0, models.stderr)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(models.stdout.utf8)) as? [[String: Any]])
        let installed = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as! String, $0["installed"] as! Bool) })
        XCTAssertEqual(installed["dvf"], true)
        XCTAssertEqual(installed["rife-v4.25"], false)
        let eval = try runTool(prefix + "/bin/tween", ["eval", fixture("triplets"), "--model", "dvf", "--json"], cwd: scratch,
                               environment: ["TWEEN_WEIGHTS": empty])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertEqual(try runTool(repoRoot + "/Scripts/install.sh", ["--bogus"]).status, 2)
    }
}
