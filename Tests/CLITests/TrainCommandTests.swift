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

    /// Tiny architectures, so that a debug build trains them in seconds.
    static let tiny: [String: String] = ["superslomo": #"{"width": 4}"#, "sepconv": #"{"width": 4, "kernel": 7}"#, "dvf": #"{"width": 4}"#,
                                           "adaconv": #"{"width": 2, "head_width": 24, "kernel": 5}"#]

    /// Writes a recipe of tiny stages (64-px crops, batch 1, four cached crops, no teacher) and returns its path.
    func recipe(_ model: String, stages: [String], name: String = "recipe.json", architecture: String? = nil) throws -> String {
        let path = scratch + "/" + name
        let json = """
        {"model": "\(model)", "architecture": \(architecture ?? Self.tiny[model]!), "validation_samples": 2,
         "stages": [\(stages.joined(separator: ", "))]}
        """
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func stage(until: Int, _ extra: String = "") -> String {
        #"{"until": \#(until), "seed": 1, "lr": 1e-3, "batch": 1, "crop": 64, "cache": {"samples": 4}, "validate_every": 2, "checkpoint_every": 2\#(extra)}"#
    }

    func train(_ model: String, until: Int, extra: [String] = [], stageExtra: String = "") throws -> CLIResult {
        try trainTool(["--recipe", try recipe(model, stages: [stage(until: until, stageExtra)]), "--data", scratch + "/media",
                       "--out", scratch + "/\(model).safetensors"] + extra)
    }

    func testACacheTooLargeForMemoryIsRefusedBeforeItIsBuilt() throws {
        // 10⁸ crops of 96 pixels would need about 10¹⁵ bytes: refused at once, naming the file and a size that fits.
        let r = try trainTool(["--recipe", try recipe("superslomo", stages: [#"{"until": 2, "seed": 1, "lr": 1e-3, "crop": 64, "cache": {"samples": 100000000}}"#]),
                               "--data", scratch + "/media", "--out", scratch + "/superslomo.safetensors"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderrLines.filter { $0.hasPrefix("tween: error:") }.count, 1, r.stderr)
        XCTAssertFalse(r.stderr.contains("train: cache"), r.stderr)   // nothing was built
        XCTAssertTrue(r.stderr.contains("/caches/none-96px-100000000-seed1-"), r.stderr)
        XCTAssertTrue(r.stderr.contains("a cache of 100000000 crops of 96 pixels needs about"), r.stderr)
        XCTAssertTrue(r.stderr.contains("use cache.samples"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/superslomo.safetensors"))
    }

    func testTrainWritesWeightsThatEvalLoadsAndResumes() throws {
        for model in ["superslomo", "sepconv", "dvf", "adaconv"] {
            let first = try train(model, until: 2, stageExtra: #", "grow_crops_until": 4"#)
            XCTAssertEqual(first.status, 0, first.stderr)
            XCTAssertTrue(first.stderr.contains("validation PSNR"), first.stderr)
            XCTAssertTrue(first.stderr.contains("stage 1/1, steps 0–2"), first.stderr)
            // Crops start at half of the stage's crop (step 2 is before 4/7 of the growth phase).
            XCTAssertTrue(first.stderr.contains("step 2/2  crop 32"), first.stderr)
            let weights = scratch + "/\(model).safetensors"
            XCTAssertTrue(FileManager.default.fileExists(atPath: weights))
            // The checkpoint is kept outside the weight file's folder, in the run's folder under TWEEN_RUNS.
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint(model)))
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/\(model).checkpoint.safetensors"))
            // The weight file carries its recipe.
            let recipeJSON = try XCTUnwrap(safetensorsMetadata(weights)["recipe"])
            XCTAssertTrue(recipeJSON.contains("\"model\":\"\(model)\""), recipeJSON)
            if model != "dvf" {
                let eval = try tween(["eval", fixture("triplets"), "--model", model, "--weights-dir", scratch, "--json"])
                XCTAssertEqual(eval.status, 0, eval.stderr)
                let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
                XCTAssertGreaterThan(report["psnr"] as! Double, 5)
            }

            let again = try train(model, until: 3)
            XCTAssertEqual(again.status, 2)
            XCTAssertTrue(again.stderr.contains("a checkpoint exists; pass --resume"), again.stderr)
            // A resumed run continues at the checkpoint's step, here into a recipe that keeps crops at full size.
            let resumed = try train(model, until: 3, extra: ["--resume"])
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertTrue(resumed.stderr.contains("resumed at step 2"), resumed.stderr)
            XCTAssertTrue(resumed.stderr.contains("step 3/3  crop 64"), resumed.stderr)
            // A checkpoint with all its steps only has its weight file rewritten.
            try FileManager.default.removeItem(atPath: weights)
            let rewritten = try train(model, until: 3, extra: ["--resume"])
            XCTAssertEqual(rewritten.status, 0, rewritten.stderr)
            XCTAssertTrue(rewritten.stderr.contains("the checkpoint has all 3 steps; rewrote"), rewritten.stderr)
            XCTAssertFalse(rewritten.stderr.contains("step 3/3"), rewritten.stderr)
            XCTAssertEqual(try safetensorsMetadata(weights)["steps"], "3")

            // A fresh clone has the weight file but no checkpoint: --resume restarts from the weights at their step
            // with fresh moments and a warm-up, and says so in the log and the weight file.
            try FileManager.default.removeItem(atPath: checkpoint(model))
            let restarted = try train(model, until: 4, extra: ["--resume"])
            XCTAssertEqual(restarted.status, 0, restarted.stderr)
            XCTAssertTrue(restarted.stderr.contains("restarted at step 3 from the weights in \(weights)"), restarted.stderr)
            XCTAssertTrue(restarted.stderr.contains("step 4/4  crop 64"), restarted.stderr)
            XCTAssertEqual(try safetensorsMetadata(weights)["steps"], "4")
            XCTAssertNotNil(try safetensorsMetadata(weights)["restarted_from"])
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint(model)))
            // Neither a checkpoint nor a weight file: nothing to resume, said in one line.
            try FileManager.default.removeItem(atPath: checkpoint(model))
            try FileManager.default.removeItem(atPath: weights)
            let nothing = try train(model, until: 5, extra: ["--resume"])
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

    /// Stages run one after another: the second starts from another file's weights with SepConv's displacement
    /// decoder and its own losses, records its start in the weight file and loads in eval; --stop-at stops part-way
    /// and --resume finishes.
    func testStagesStartsAndStopAt() throws {
        XCTAssertEqual(try train("sepconv", until: 2).status, 0)
        let base = scratch + "/base.safetensors"
        try FileManager.default.moveItem(atPath: scratch + "/sepconv.safetensors", toPath: base)
        let stages = [stage(until: 2, #", "average_from": 0"#),
                      stage(until: 4, #", "init": {"from": "base.safetensors", "start": "displacement_decoder"}, "losses": {"gain": 1}"#)]
        let path = try recipe("sepconv", stages: stages, name: "two.json", architecture: #"{"width": 4, "kernel": 7, "displacement_scale": 0.125}"#)
        let out = scratch + "/two/sepconv.safetensors"
        let part = try trainTool(["--recipe", path, "--data", scratch + "/media", "--out", out, "--stop-at", "3"])
        XCTAssertEqual(part.status, 0, part.stderr)
        XCTAssertTrue(part.stderr.contains("mean of the last 2 steps' weights"), part.stderr)
        XCTAssertTrue(part.stderr.contains("stage 2/2, steps 2–3"), part.stderr)
        XCTAssertTrue(part.stderr.contains("gain "), part.stderr)
        XCTAssertEqual(try safetensorsMetadata(out)["steps"], "3")
        let rest = try trainTool(["--recipe", path, "--data", scratch + "/media", "--out", out, "--resume"])
        XCTAssertEqual(rest.status, 0, rest.stderr)
        XCTAssertTrue(rest.stderr.contains("step 4/4"), rest.stderr)
        let meta = try safetensorsMetadata(out)
        XCTAssertEqual(meta["kernel_init"], "displacement decoder")
        XCTAssertEqual(meta["init_from"], "base.safetensors")
        XCTAssertEqual(meta["displacement_scale"], "0.125")
        XCTAssertNil(meta["averaged_steps"], "a stage that starts anew does not carry the first stage's mean")
        let eval = try tween(["eval", fixture("triplets"), "--model", "sepconv", "--weights-dir", scratch + "/two", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
    }

    /// A wider network started from a narrower run's weights trains, records its start and loads in eval; a narrower
    /// target is refused naming the file. (`WideningTests` checks that the widened network computes the narrow one's
    /// frames.)
    func testWidenFrom() throws {
        XCTAssertEqual(try train("superslomo", until: 2).status, 0)
        func widen(_ width: Int) throws -> CLIResult {
            let path = try recipe("superslomo", stages: [stage(until: 2, #", "init": {"from": "superslomo.safetensors", "widen": true}"#)],
                                  name: "wide.json", architecture: "{\"width\": \(width)}")
            return try trainTool(["--recipe", path, "--data", scratch + "/media", "--out", scratch + "/wide\(width)/superslomo.safetensors"])
        }
        let r = try widen(6)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try safetensorsMetadata(scratch + "/wide6/superslomo.safetensors")["widened_from"], "superslomo.safetensors")
        let eval = try tween(["eval", fixture("triplets"), "--model", "superslomo", "--weights-dir", scratch + "/wide6", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let narrower = try widen(2)
        XCTAssertEqual(narrower.status, 1, narrower.stderr)
        XCTAssertTrue(narrower.stderr.contains("superslomo.safetensors: does not match the model") && narrower.stderr.contains("cannot widen to"), narrower.stderr)
    }

    /// A mistyped recipe is refused before any media is read, in one line naming the file; --print-recipe shows the
    /// one-stage recipe that --model runs.
    func testRecipeErrorsAndPrintRecipe() throws {
        let path = try recipe("dvf", stages: [#"{"until": 2, "seed": 1, "lr": 1e-3, "lossess": {}}"#], name: "bad.json")
        let bad = try trainTool(["--recipe", path, "--data", scratch + "/media", "--out", scratch + "/x.safetensors"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stderrLines.count, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("\(path): unknown key \"lossess\" in stage 1"), bad.stderr)
        let printed = try trainTool(["--model", "dvf", "--steps", "500", "--print-recipe"])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(object["model"] as? String, "dvf")
        XCTAssertEqual(object["teacher"] as? String, "rife-hdv3")
        let neither = try trainTool(["--data", scratch + "/media", "--out", scratch + "/x.safetensors"])
        XCTAssertEqual(neither.status, 2)
        XCTAssertTrue(neither.stderr.contains("give --recipe FILE or --model NAME"), neither.stderr)
    }

    func testTrainWithoutMediaIsAClearError() throws {
        try FileManager.default.createDirectory(atPath: scratch + "/nothing", withIntermediateDirectories: true)
        let r = try trainTool(["--model", "sepconv", "--teacher", "none", "--data", scratch + "/nothing", "--steps", "1", "--out", scratch + "/x.safetensors"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderrLines, ["tween: error: \(scratch)/nothing: no training videos or photos found"])
    }
}
