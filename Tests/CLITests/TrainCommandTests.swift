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

    /// Checkpoints and caches go to the scratch folder's runs/, not the user's data folder.
    var runs: String { scratch + "/runs" }
    func checkpoint(_ model: String, run: String? = nil) -> String {
        runs + "/" + (run ?? (scratch as NSString).lastPathComponent) + "/\(model).checkpoint.safetensors"
    }

    func trainTool(_ args: [String]) throws -> CLIResult {
        try tween(["train"] + args, environment: ["TWEEN_RUNS": runs])
    }

    func train(_ model: String, steps: Int, extra: [String] = []) throws -> CLIResult {
        try trainTool(["--model", model, "--width", "4", "--kernel", "7", "--data", scratch + "/media", "--steps", "\(steps)",
                   "--batch", "1", "--crop", "64", "--cache-samples", "4", "--validate-every", "2", "--validation-samples", "2", "--checkpoint-every", "2",
                   "--out", scratch + "/\(model).safetensors"] + extra)
    }

    func testACacheTooLargeForMemoryIsRefusedBeforeItIsBuilt() throws {
        // 10⁸ crops of 96 pixels would need about 10¹⁶ bytes: refused at once, naming the file and a size that fits.
        let r = try train("superslomo", steps: 2, extra: ["--cache-samples", "100000000"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderrLines.filter { $0.hasPrefix("tween: error:") }.count, 1, r.stderr)
        XCTAssertFalse(r.stderr.contains("train: cache"), r.stderr)   // nothing was built
        XCTAssertTrue(r.stderr.contains("superslomo.cache-none-96-100000000.safetensors: a teacher cache of 100000000 crops of 96 pixels needs about"), r.stderr)
        XCTAssertTrue(r.stderr.contains("use --cache-samples"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/superslomo.safetensors"))
    }

    func testTrainWritesWeightsThatEvalLoadsAndResumes() throws {
        for model in ["superslomo", "sepconv"] {
            let first = try train(model, steps: 2)
            XCTAssertEqual(first.status, 0, first.stderr)
            XCTAssertTrue(first.stderr.contains("validation PSNR"), first.stderr)
            // Crops start at half of --crop (step 2 of 2 is at 50% of the steps; full size comes at 70%).
            XCTAssertTrue(first.stderr.contains("step 2/2  crop 32"), first.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/\(model).safetensors"))
            // The checkpoint is kept outside the weight file's folder, in the run's folder under TWEEN_RUNS.
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint(model)))
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/\(model).checkpoint.safetensors"))
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
            // A checkpoint with all its steps only has its weight file rewritten, with the recipe that trained it.
            let weights = scratch + "/\(model).safetensors"
            try FileManager.default.removeItem(atPath: weights)
            let rewritten = try train(model, steps: 3, extra: ["--resume", "--seed", "99"])
            XCTAssertEqual(rewritten.status, 0, rewritten.stderr)
            XCTAssertTrue(rewritten.stderr.contains("the checkpoint has all 3 steps; rewrote"), rewritten.stderr)
            XCTAssertFalse(rewritten.stderr.contains("step 3/3"), rewritten.stderr)
            let recipe = try XCTUnwrap(safetensorsMetadata(weights)["recipe"])
            XCTAssertTrue(recipe.contains("--grow-crops-until 0") && !recipe.contains("--seed 99"), recipe)

            // A fresh clone has the weight file but no checkpoint: --resume restarts from the weights at their step
            // with fresh moments and a warm-up, and says so in the log and the weight file.
            try FileManager.default.removeItem(atPath: checkpoint(model))
            let restarted = try train(model, steps: 4, extra: ["--resume", "--grow-crops-until", "0"])
            XCTAssertEqual(restarted.status, 0, restarted.stderr)
            XCTAssertTrue(restarted.stderr.contains("restarted at step 3 from the weights in \(weights)"), restarted.stderr)
            XCTAssertTrue(restarted.stderr.contains("step 4/4  crop 64"), restarted.stderr)
            XCTAssertEqual(try safetensorsMetadata(weights)["steps"], "4")
            XCTAssertNotNil(try safetensorsMetadata(weights)["restarted_from"])
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint(model)))
            // Neither a checkpoint nor a weight file: nothing to resume, said in one line.
            try FileManager.default.removeItem(atPath: checkpoint(model))
            try FileManager.default.removeItem(atPath: weights)
            let nothing = try train(model, steps: 5, extra: ["--resume"])
            XCTAssertEqual(nothing.status, 1, nothing.stderr)
            XCTAssertTrue(nothing.stderr.contains("no checkpoint to resume, and no weight file at \(weights)"), nothing.stderr)
        }
    }

    /// A safetensors file's string metadata, read from its JSON header.
    func safetensorsMetadata(_ path: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as! [String: Any]
        return header["__metadata__"] as? [String: String] ?? [:]
    }

    /// The data, head and averaging options: a SepConv with wider kernel heads trains on larger gaps and motions,
    /// ships the mean of its weights, and loads in eval (its head width is read from the weights); out-of-range
    /// values are refused before any work.
    func testHeadWidthMotionAndAveragingOptions() throws {
        let r = try train("sepconv", steps: 2, extra: ["--head-width", "12", "--max-gap", "4", "--max-motion", "40", "--average-from", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("mean of the last 2 steps' weights"), r.stderr)
        let eval = try tween(["eval", fixture("triplets"), "--model", "sepconv", "--weights-dir", scratch, "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        // Resumed without those options: the cache says how it was drawn, and the running mean is dropped.
        let resumed = try train("sepconv", steps: 3, extra: ["--head-width", "12", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("drawn with --max-gap 4 --max-motion 40.0"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("running mean of 2 steps is dropped"), resumed.stderr)
        for (extra, message) in [(["--head-width", "0"], "--head-width must be positive"),
                                 (["--max-gap", "5"], "--max-gap must be 1 to 4"),
                                 (["--max-motion=-1"], "--max-motion must be 0 to 64"),
                                 (["--average-from=-1"], "--average-from must be 0 or more"),
                                 (["--blend-init-scale", "2"], "--blend-init-scale must be 0 to 1"),
                                 (["--decay-from", "99"], "--decay-from must be between 0 and --steps")] {
            let bad = try train("sepconv", steps: 1, extra: extra)
            XCTAssertEqual(bad.status, 2, extra.joined(separator: " "))
            XCTAssertTrue(bad.stderr.contains(message), bad.stderr)
        }
        let wrongModel = try trainTool(["--model", "superslomo", "--head-width", "8", "--data", scratch + "/media",
                                    "--out", scratch + "/s.safetensors"])
        XCTAssertEqual(wrongModel.status, 2)
        XCTAssertTrue(wrongModel.stderr.contains("applies to sepconv only"), wrongModel.stderr)
    }

    /// A new SepConv run from another run's weights with displacement-decoder heads: it trains, records its start and
    /// α in the weight file, and loads in eval; the options are refused where they cannot apply.
    func testInitFromAndDisplacementInit() throws {
        let base = try train("sepconv", steps: 2)
        XCTAssertEqual(base.status, 0, base.stderr)
        let out = scratch + "/decoder/sepconv.safetensors"
        let r = try trainTool(["--model", "sepconv", "--width", "4", "--kernel", "7", "--data", scratch + "/media", "--steps", "2",
                           "--batch", "1", "--crop", "64", "--cache-samples", "4", "--validation-samples", "2",
                           "--init-from", scratch + "/sepconv.safetensors", "--displacement-init", "--displacement-scale", "0.125", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let header = try String(contentsOfFile: out, encoding: .isoLatin1)
        XCTAssertTrue(header.contains("\"kernel_init\":\"displacement decoder\""), String(header.prefix(600)))
        XCTAssertTrue(header.contains("\"displacement_scale\":\"0.125\""), String(header.prefix(600)))
        let eval = try tween(["eval", fixture("triplets"), "--model", "sepconv", "--weights-dir", scratch + "/decoder", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        for (model, extra, message) in [("sepconv", ["--displacement-loss", "1"], "--displacement-loss must be 0 or more and needs --model sepconv with --teacher"),
                                        ("sepconv", ["--displacement-init", "--resume"], "start a new run"),
                                        ("sepconv", ["--displacement-init", "--blend-init"], "pick one"),
                                        ("sepconv", ["--displacement-scale", "0"], "--displacement-scale must be positive"),
                                        ("superslomo", ["--displacement-init"], "applies to sepconv only"),
                                        ("superslomo", ["--kernel-gain-loss", "1"], "--kernel-gain-loss must be 0 or more and needs --model sepconv"),
                                        ("sepconv", ["--kernel-gain-loss=-1"], "--kernel-gain-loss must be 0 or more")] {
            let bad = try trainTool(["--model", model, "--data", scratch + "/media", "--out", scratch + "/bad.safetensors"] + extra)
            XCTAssertEqual(bad.status, 2, extra.joined(separator: " "))
            XCTAssertTrue(bad.stderr.contains(message), bad.stderr)
        }
        let mismatch = try trainTool(["--model", "sepconv", "--width", "8", "--data", scratch + "/media", "--steps", "1", "--batch", "1",
                                  "--crop", "64", "--cache-samples", "4", "--init-from", scratch + "/sepconv.safetensors",
                                  "--out", scratch + "/wide/sepconv.safetensors"])
        XCTAssertEqual(mismatch.status, 1, mismatch.stderr)
        XCTAssertTrue(mismatch.stderr.contains("sepconv.safetensors: does not match the model"), mismatch.stderr)
    }

    /// A wider network started from a narrower run's weights trains, records its start and loads in eval; a file that
    /// is wider, has another kernel size, or comes with --init-from is refused. (`WideningTests` checks that the
    /// widened network computes the narrow one's frames.)
    func testWidenFrom() throws {
        // The SepConv path is the same code; only its kernel-size check is its own.
        for model in ["superslomo"] {
            let base = try train(model, steps: 2)
            XCTAssertEqual(base.status, 0, base.stderr)
            let narrow = scratch + "/\(model).safetensors", out = scratch + "/wide/\(model).safetensors"
            func widen(_ width: Int, kernel: Int = 7, extra: [String] = []) throws -> CLIResult {
                try trainTool(["--model", model, "--width", "\(width)", "--kernel", "\(kernel)", "--data", scratch + "/media",
                           "--steps", "2", "--batch", "1", "--crop", "64", "--cache-samples", "4", "--validation-samples", "2",
                           "--widen-from", narrow, "--out", out] + extra)
            }
            let r = try widen(6)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try safetensorsMetadata(out)["widened_from"], narrow)
            let eval = try tween(["eval", fixture("triplets"), "--model", model, "--weights-dir", scratch + "/wide", "--json"])
            XCTAssertEqual(eval.status, 0, eval.stderr)
            try FileManager.default.removeItem(atPath: scratch + "/wide")
            try FileManager.default.removeItem(atPath: runs + "/wide")
            let narrower = try widen(2)
            XCTAssertEqual(narrower.status, 1, narrower.stderr)
            XCTAssertTrue(narrower.stderr.contains("\(narrow): does not match the model") && narrower.stderr.contains("cannot widen to"), narrower.stderr)
            let both = try widen(6, extra: ["--init-from", narrow])
            XCTAssertEqual(both.status, 2, both.stderr)
            XCTAssertTrue(both.stderr.contains("--init-from and --widen-from are two different starts"), both.stderr)
        }
        XCTAssertEqual(try train("sepconv", steps: 1).status, 0)
        let otherKernel = try trainTool(["--model", "sepconv", "--width", "6", "--kernel", "9", "--data", scratch + "/media",
                                     "--steps", "1", "--batch", "1", "--crop", "64", "--cache-samples", "4",
                                     "--widen-from", scratch + "/sepconv.safetensors", "--out", scratch + "/k9/sepconv.safetensors"])
        XCTAssertEqual(otherKernel.status, 1, otherKernel.stderr)
        XCTAssertTrue(otherKernel.stderr.contains("sepconv.safetensors: its kernels have 7 taps, not --kernel 9"), otherKernel.stderr)
    }

    func testTrainWithoutMediaIsAClearError() throws {
        try FileManager.default.createDirectory(atPath: scratch + "/nothing", withIntermediateDirectories: true)
        let r = try trainTool(["--model", "sepconv", "--data", scratch + "/nothing", "--steps", "1", "--out", scratch + "/x.safetensors"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderrLines, ["tween: error: \(scratch)/nothing: no training videos or photos found"])
    }
}
