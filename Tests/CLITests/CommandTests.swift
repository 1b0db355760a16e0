import XCTest

final class CommandTests: XCTestCase {
    var scratch = ""
    override func setUp() { scratch = makeScratchFolder("cmd") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testBatchMirrorsTheTreeAndGoesOnPastABrokenFile() throws {
        let input = scratch + "/in", output = scratch + "/out"
        try FileManager.default.createDirectory(atPath: input + "/sub", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("clip30.mp4"), toPath: input + "/a.mp4")
        try FileManager.default.copyItem(atPath: fixture("clip23976.mp4"), toPath: input + "/sub/b.mp4")
        try "not a video".write(toFile: input + "/sub/broken.mkv", atomically: true, encoding: .utf8)
        try "notes".write(toFile: input + "/readme.txt", atomically: true, encoding: .utf8)

        let r = try tween(["batch", "--model", "blend", input, "-o", output, "--recursive", "--factor", "2"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("tween: error: \(input)/sub/broken.mkv: not a media file FFmpeg can read"), r.stderr)
        XCTAssertEqual(r.stderrLines.last, "tween: batch: 2 converted, 0 skipped, 1 failed (of 3)")
        XCTAssertEqual(listing(output), ["a.mp4", "sub", "sub/b.mp4"])

        let again = try tween(["batch", "--model", "blend", input, "-o", output, "--recursive", "--skip-existing", "--glob", "*.mp4", "--jobs", "2"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stderrLines.last, "tween: batch: 0 converted, 2 skipped, 0 failed (of 2)")

        let flat = try tween(["batch", "--model", "blend", input, "-o", scratch + "/flat", "--factor", "2", "--quiet"])
        XCTAssertEqual(flat.status, 0)
        XCTAssertEqual(listing(scratch + "/flat"), ["a.mp4"])
    }

    func testShardsSplitTheFilesDisjointly() throws {
        let input = scratch + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        for i in 0..<6 { try FileManager.default.copyItem(atPath: fixture("clip30.mp4"), toPath: input + "/c\(i).mp4") }
        var seen: [String] = []
        for i in 1...3 {
            let r = try tween(["batch", "--model", "blend", input, "-o", scratch + "/s\(i)", "--shard", "\(i)/3", "--factor", "2", "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            seen += listing(scratch + "/s\(i)")
        }
        XCTAssertEqual(seen.sorted(), (0..<6).map { "c\($0).mp4" })
        XCTAssertEqual(try tween(["batch", "--model", "blend", input, "-o", scratch + "/x", "--shard", "4/3"]).status, 2)
    }

    func testEvalMatchesScikitImageGoldens() throws {
        // Two layouts: the fixture's frame0/1/2, and the same frames under Middlebury's names, made here.
        let dataset = scratch + "/triplets"
        try FileManager.default.createDirectory(atPath: dataset + "/mb/b", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("triplets/seq"), toPath: dataset + "/seq")
        for (src, dst) in [("frame0", "frame10"), ("frame1", "frame10i11"), ("frame2", "frame11")] {
            try FileManager.default.copyItem(atPath: fixture("triplets/seq/a/\(src).png"), toPath: dataset + "/mb/b/\(dst).png")
        }
        let r = try tween(["eval", dataset, "--model", "blend", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["count"] as? Int, 2)   // Middlebury layout and frame0/1/2 layout
        XCTAssertEqual(report["model"] as? String, "blend")
        let items = report["items"] as! [[String: Any]]
        XCTAssertEqual(items.map { $0["name"] as! String }, ["mb/b", "seq/a"])
        let goldens = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture("goldens/metrics.json")))) as! [String: [String: Double]]
        // Scikit-image in float64 against ours in float64: equal to rounding.
        XCTAssertEqual(items[1]["psnr"] as! Double, goldens["blend_vs_frame1"]!["psnr"]!, accuracy: 1e-9)
        XCTAssertEqual(items[1]["ssim"] as! Double, goldens["blend_vs_frame1"]!["ssim"]!, accuracy: 1e-9)
        XCTAssertNotNil(report["seconds_per_frame"] as? Double)
        let nearest = try tween(["eval", dataset, "--model", "nearest", "--json"])
        let n = try JSONSerialization.jsonObject(with: Data(nearest.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((n["items"] as! [[String: Any]])[1]["psnr"] as! Double, goldens["frame0_vs_frame1"]!["psnr"]!, accuracy: 1e-9)
        try FileManager.default.createDirectory(atPath: scratch + "/empty", withIntermediateDirectories: true)
        XCTAssertEqual(try tween(["eval", scratch + "/empty"]).status, 1)   // no triplets
    }

    func testEnsembleAveragesSymmetricPassesInEveryCommand() throws {
        // Blending is symmetric, so its 4-pass ensemble scores as it does (tolerance 1e-4 dB: float rounding).
        func psnr(_ args: [String]) throws -> Double {
            let r = try tween(["eval", fixture("triplets"), "--model", "blend", "--json"] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
            return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["psnr"] as! Double
        }
        XCTAssertEqual(try psnr(["--ensemble", "4"]), try psnr([]), accuracy: 1e-4)
        let report = try JSONSerialization.jsonObject(with: Data(try tween(["eval", fixture("triplets"), "--model", "blend", "--ensemble", "2", "--json"]).stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["ensemble"] as? Int, 2)
        let bad = try tween(["eval", fixture("triplets"), "--ensemble", "3"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--ensemble takes 1, 2, 4 or 8"), bad.stderr)
        let out = scratch + "/e.mp4"
        let r = try tween([fixture("clip30.mp4"), "-o", out, "--model", "blend", "--ensemble", "2", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try tween(["batch", fixture("triplets"), "-o", scratch + "/b", "--ensemble", "5"]).status, 2)
    }

    /// `--threads` far beyond the cores is capped at four per core with a note (a thousand threads made an 8-second
    /// job take minutes), and the result is the same as with one thread.
    func testThreadsBeyondTheCoresAreCapped() throws {
        let many = try tween(["eval", fixture("triplets"), "--model", "blend", "--threads", "1000", "--json"])
        XCTAssertEqual(many.status, 0, many.stderr)
        let cap = 4 * ProcessInfo.processInfo.activeProcessorCount
        XCTAssertTrue(many.stderr.contains("tween: --threads 1000 is more than four per core"), many.stderr)
        XCTAssertTrue(many.stderr.contains("using \(cap)"), many.stderr)
        let one = try tween(["eval", fixture("triplets"), "--model", "blend", "--threads", "1", "--json"])
        let psnr = { (r: CLIResult) in (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["psnr"] as! Double }
        XCTAssertEqual(try psnr(many), try psnr(one))
    }

    /// A --weights-dir that does not exist, or is a file, is a one-line error, not a fall-back to the shipped weights.
    func testAMissingWeightsFolderIsAnError() throws {
        let missing = scratch + "/no-such-weights"
        for args in [["eval", fixture("triplets"), "--model", "superslomo"], ["models"]] {
            let r = try tween(args + ["--weights-dir", missing])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertEqual(r.stderrLines, ["tween: error: \(missing): no such folder (--weights-dir)"])
        }
        let file = fixture("triplets") + "/seq/a/frame1.png"
        let r = try tween(["eval", fixture("triplets"), "--model", "blend", "--weights-dir", file])
        XCTAssertEqual(r.stderrLines, ["tween: error: \(file): not a folder (--weights-dir)"])
    }

    func testModelsListsWhatEachSupports() throws {
        // With an empty model folder RIFE shows as missing, with the way to install it.
        let empty = ["TWEEN_WEIGHTS": scratch]
        let r = try tween(["models"], environment: empty)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("nearest"))
        // The default (starred): the shipped Super SloMo, the best quality at 2.5 fps or more at 720p.
        XCTAssertTrue(r.stdout.contains("superslomo*"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rife-hdv3: run Scripts/fetch-rife.sh (into \(scratch))"), r.stdout)
        XCTAssertTrue(r.stdout.contains("rife-v4.25: run Scripts/fetch-rife.sh (into \(scratch))"), r.stdout)
        let j = try JSONSerialization.jsonObject(with: Data(try tween(["models", "--json"], environment: empty).stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(j.map { $0["name"] as! String }, ["nearest", "blend", "rife-hdv3", "rife-v4.25", "superslomo", "sepconv", "dvf", "adaconv"])
        XCTAssertEqual(j[4]["arbitrary_t"] as? Bool, true)
        XCTAssertEqual(j.filter { $0["default_model"] as? Bool == true }.map { $0["name"] as! String }, ["superslomo"])
        XCTAssertEqual(j[5]["arbitrary_t"] as? Bool, false)
        XCTAssertEqual(j[3]["arbitrary_t"] as? Bool, true)
        XCTAssertEqual(j[1]["arbitrary_t"] as? Bool, true)
        XCTAssertEqual(j[2]["installed"] as? Bool, false)
        XCTAssertEqual(j[2]["arbitrary_t"] as? Bool, false)
        // Using it without weights is a one-line error that says what to do.
        let use = try tween([fixture("clip30.mp4"), "-o", scratch + "/o.mp4", "--model", "rife-hdv3"], environment: empty)
        XCTAssertEqual(use.status, 1)
        XCTAssertEqual(use.stderrLines, ["tween: error: \(scratch)/rife-hdv3.safetensors: model weights not installed; run Scripts/fetch-rife.sh (or set --weights-dir / TWEEN_WEIGHTS)"])
    }

    /// `tween bench train` runs a shipped model's recipe (read from its weight file) on a tiny crop, prints one JSON
    /// row, and refuses what it cannot train in one line.
    func testBenchTrainRunsAShippedRecipeAndRefusesOtherModels() throws {
        let r = try tween(["bench", "train", "--model", "dvf", "--crop", "32", "--batch", "1", "--steps", "1", "--repeats", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(rows.first?["model"] as? String, "dvf"); XCTAssertEqual(rows.first?["crop"] as? Int, 32)
        XCTAssertGreaterThan(rows.first?["samples_per_second"] as? Double ?? 0, 0)
        let bad = try tween(["bench", "train", "--model", "rife-v4.25"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.stderrLines.first, "Error: model 'rife-v4.25' cannot be trained here (trainable: superslomo, sepconv, dvf, adaconv)")
    }

    func testHelpTextMatchesTheSnapshot() throws {
        for (args, file) in [(["--help"], "help.txt"), (["interpolate", "--help"], "help-interpolate.txt"),
                             (["batch", "--help"], "help-batch.txt"), (["eval", "--help"], "help-eval.txt"), (["compare", "--help"], "help-compare.txt"),
                             (["models", "--help"], "help-models.txt"), (["train", "--help"], "help-train.txt"),
                             (["bench", "--help"], "help-bench.txt")] {
            let r = try tween(args)
            XCTAssertEqual(r.status, 0)
            let path = fixture("goldens/" + file)
            if ProcessInfo.processInfo.environment["TWEEN_UPDATE_SNAPSHOTS"] != nil {
                try r.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            }
            XCTAssertEqual(r.stdout, try String(contentsOfFile: path, encoding: .utf8), "\(file): run with TWEEN_UPDATE_SNAPSHOTS=1 to accept a change")
        }
    }
}

/// Contact sheets: `eval --model a,b --sheet` and `compare`.
final class ContactSheetCommandTests: XCTestCase {
    func testEvalWritesASheetAndReportsEveryMethod() throws {
        let scratch = makeScratchFolder("sheet")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let sheet = scratch + "/sheet.png"
        let r = try tween(["eval", fixture("triplets"), "--model", "blend,nearest", "--sheet", sheet, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let reports = json?["reports"] as? [[String: Any]]
        XCTAssertEqual(reports?.map { $0["model"] as? String }, ["blend", "nearest"])
        let info = streams(try probe(sheet))
        XCTAssertEqual(info.first?["width"] as? Int, 3 * 64 + 4 * 2)   // truth + two methods, 64-pixel frames
        let again = try tween(["eval", fixture("triplets"), "--model", "blend", "--sheet", sheet])
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.stderrLines, ["tween: error: \(sheet): output exists; use -y to overwrite"])
    }

    func testCompareDrawsOneGapOfAClip() throws {
        let scratch = makeScratchFolder("compare")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let sheet = scratch + "/gap.png"
        let r = try tween(["compare", fixture("clip30.mp4"), "-o", sheet, "--at", "0:00.5", "--model", "blend,nearest"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderrLines, ["\(sheet): the gap 0.500–0.533 s, blend, nearest"])
        XCTAssertEqual(streams(try probe(sheet)).first?["width"] as? Int, 3 * 160 + 4 * 2)
        let late = try tween(["compare", fixture("clip30.mp4"), "-o", scratch + "/late.png", "--at", "5", "--model", "blend"])
        XCTAssertEqual(late.status, 1)
        XCTAssertEqual(late.stderrLines.count, 1)
        XCTAssertTrue(late.stderr.contains("no gap holds 5.000 s"), late.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/late.png"))
    }
}
