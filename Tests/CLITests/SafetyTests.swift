import XCTest

/// Every bad input gets one line naming the file and the problem, a non-zero exit code, and no output left.
final class SafetyTests: XCTestCase {
    var scratch = ""
    override func setUp() { scratch = makeScratchFolder("safety") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func expectFailure(_ args: [String], status: Int32 = 1, line expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = listing(scratch)
        let r = try tween(args)
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderrLines, [expected], file: file, line: line)
        XCTAssertEqual(listing(scratch), before, "no partial output left", file: file, line: line)
    }

    func testBadInputs() throws {
        let out = scratch + "/out.mp4"
        try "hello".write(toFile: scratch + "/text.mp4", atomically: true, encoding: .utf8)
        let mp4 = try Data(contentsOf: URL(fileURLWithPath: fixture("clip25_av.mp4")))
        try mp4.prefix(20_000).write(to: URL(fileURLWithPath: scratch + "/cut.mp4"))
        let seq = scratch + "/seq"
        try FileManager.default.createDirectory(atPath: seq, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("pngseq/f001.png"), toPath: seq + "/a1.png")
        try FileManager.default.copyItem(atPath: fixture("rgb16.png"), toPath: seq + "/a2.png")

        try expectFailure([scratch + "/missing.mp4", "-o", out], line: "tween: error: \(scratch)/missing.mp4: no such file")
        try expectFailure([scratch + "/text.mp4", "-o", out], line: "tween: error: \(scratch)/text.mp4: not a media file FFmpeg can read")
        try expectFailure([fixture("audio_only.wav"), "-o", out], line: "tween: error: \(fixture("audio_only.wav")): has no video stream")
        try expectFailure([fixture("unknown_codec.mkv"), "-o", out],
                          line: "tween: error: \(fixture("unknown_codec.mkv")): unsupported codec (unknown, FourCC QQQQ): this FFmpeg has no decoder for it")
        try expectFailure([scratch + "/cut.mp4", "-o", out],
                          line: "tween: error: \(scratch)/cut.mp4: truncated or corrupt QuickTime / MOV data (Invalid data found when processing input)")
        try expectFailure([seq, "-o", out, "--input-fps", "25"], line: "tween: error: \(seq)/a2.png: is 40×30 but the sequence is 64×48")
        try expectFailure([fixture("rgb16.png"), "-o", out], line: "tween: error: \(fixture("rgb16.png")): needs at least two frames, found 1")
        try expectFailure([fixture("clip30.mp4"), "-o", scratch + "/no/such/dir/out.mp4"],
                          line: "tween: error: \(scratch)/no/such/dir/out.mp4: output folder \(scratch)/no/such/dir does not exist")
        try expectFailure([fixture("clip30.mp4"), "-o", scratch + "/out.xyz"],
                          line: "tween: error: \(scratch)/out.xyz: unknown output container; use .mp4, .mkv, .mov, .webm or .y4m, or end the path with / for a folder of PNGs")
    }

    func testUnwritableOutputFolder() throws {
        if getuid() == 0 {
            // root may write into any mode-0555 folder; sysfs refuses file creation even to root.
            let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", "/sys/tween-test.mp4"])
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.stderrLines, ["tween: error: /sys/tween-test.mp4: cannot create a file in /sys (Permission denied)"])
            return
        }
        let locked = scratch + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", locked + "/out.mp4"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderrLines, ["tween: error: \(locked)/out.mp4: output folder \(locked) is not writable"])
    }

    func testUsageErrorsExitWith2() throws {
        let out = scratch + "/o.mp4"
        for args in [["--fps", "abc"], ["--fps", "0"], ["--fps", "60", "--factor", "2"], ["--slowmo", "0.5"],
                     ["--codec", "ffv1", "--crf", "3"], ["--model", "nope"], ["--scene-cut", "x"], ["--codec", "mpeg9"]] {
            let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", out] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("Error: "), r.stderr)
        }
        XCTAssertEqual(try tween(["--model", "blend", fixture("clip30.mp4")]).status, 2)   // no output
        XCTAssertEqual(listing(scratch), [])
    }

    func testNeverOverwritesWithoutAskingAndNeverTheInput() throws {
        let out = scratch + "/o.mp4"
        try "precious".write(toFile: out, atomically: true, encoding: .utf8)
        let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", out])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderrLines, ["tween: error: \(out): output exists; use -y to overwrite"])
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "precious")
        XCTAssertEqual(try tween(["--model", "blend", fixture("clip30.mp4"), "-o", out, "-y"]).status, 0)
        XCTAssertGreaterThan(try FileManager.default.attributesOfItem(atPath: out)[.size] as! Int, 1000)

        let input = scratch + "/in.mp4"
        try FileManager.default.copyItem(atPath: fixture("clip30.mp4"), toPath: input)
        let same = try tween(["--model", "blend", input, "-o", scratch + "/./in.mp4", "-y"])
        XCTAssertEqual(same.status, 1)
        XCTAssertEqual(same.stderrLines, ["tween: error: \(scratch)/./in.mp4: is the input; choose another output name"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: input)), try Data(contentsOf: URL(fileURLWithPath: fixture("clip30.mp4"))))
    }

    /// Starts a long slow motion in a slow lossless codec (still running when signalled) and waits until its hidden
    /// partial file appears in `folder`.
    func startLongConversion(_ arguments: [String], watching folder: String, file: StaticString = #filePath, line: UInt = #line) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tweenBinary)
        p.arguments = arguments + ["--slowmo", "64", "--codec", "ffv1"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(20)
        while listing(folder).isEmpty && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(listing(folder).count, 1, "the hidden partial file exists while writing", file: file, line: line)
        return p
    }

    func testCtrlCRemovesThePartialOutput() throws {
        let p = try startLongConversion([fixture("sample.mp4"), "-o", scratch + "/big.mkv"], watching: scratch)
        XCTAssertTrue(listing(scratch).first?.hasPrefix(".big.mkv.") ?? false)
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertEqual(listing(scratch), [])
    }

    /// SIGTERM and SIGHUP (a closed terminal) remove the partial output as Ctrl-C does, with 143 and 129.
    func testTerminationAndHangUpRemoveThePartialOutput() throws {
        for (sig, code) in [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            let p = try startLongConversion([fixture("sample.mp4"), "-o", scratch + "/big.mkv"], watching: scratch)
            kill(p.processIdentifier, sig)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, code, "signal \(sig)")
            XCTAssertEqual(listing(scratch), [], "signal \(sig)")
        }
    }

    /// A pid that no process has: a child that has exited and been reaped.
    func deadPID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run(); p.waitUntilExit()
        return p.processIdentifier
    }

    /// Partials left by a killed run (SIGKILL leaves no chance to clean up) are removed by the next run of the same
    /// output; a live process's partial and other outputs' partials are left alone.
    func testPartialsOfKilledRunsAreRemovedByTheNextRun() throws {
        let dead = try deadPID(), live = getpid()
        let names = [".out.mp4.\(dead).tween-partial", ".out.mp4.\(live).tween-partial", ".other.mp4.\(dead).tween-partial"]
        for n in names { try "partial".write(toFile: scratch + "/" + n, atomically: false, encoding: .utf8) }
        let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", scratch + "/out.mp4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(listing(scratch), [names[1], names[2], "out.mp4"].sorted())

        // A PNG folder: every dead run's per-frame partial inside it goes.
        let folder = scratch + "/frames"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try "partial".write(toFile: folder + "/.000003.png.\(dead).tween-partial", atomically: false, encoding: .utf8)
        XCTAssertEqual(try tween(["--model", "blend", fixture("clip30.mp4"), "-o", folder + "/", "-y"]).status, 0)
        XCTAssertFalse(listing(folder).contains { $0.hasSuffix(".tween-partial") }, "\(listing(folder))")
    }

    /// -y over a PNG folder or pattern that holds a longer sequence leaves only the new one: never a mix of two runs.
    func testOverwritingAPNGSequenceLeavesNoOlderFrames() throws {
        let folder = scratch + "/frames"
        XCTAssertEqual(try tween(["--model", "blend", fixture("pngseq"), "-o", folder + "/", "--factor", "4"]).status, 0)
        let long = listing(folder).count
        let again = try tween(["--model", "blend", fixture("pngseq"), "-o", folder + "/", "-y"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let short = listing(folder)
        XCTAssertLessThan(short.count, long)
        XCTAssertEqual(short, (1...short.count).map { String(format: "%06d.png", $0) })

        let pattern = scratch + "/seq/f%03d.png"
        try FileManager.default.createDirectory(atPath: scratch + "/seq", withIntermediateDirectories: false)
        try "keep".write(toFile: scratch + "/seq/notes.txt", atomically: false, encoding: .utf8)
        XCTAssertEqual(try tween(["--model", "blend", fixture("pngseq"), "-o", pattern, "--factor", "4"]).status, 0)
        XCTAssertEqual(try tween(["--model", "blend", fixture("pngseq"), "-o", pattern, "-y"]).status, 0)
        XCTAssertEqual(listing(scratch + "/seq"), (1...short.count).map { String(format: "f%03d.png", $0) } + ["notes.txt"])
    }

    /// Ctrl-C during a batch removes the partial file and the output folder the batch created, once it is empty.
    func testInterruptedBatchLeavesNoEmptyFolder() throws {
        try FileManager.default.createDirectory(atPath: scratch + "/in", withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: fixture("sample.mp4"), toPath: scratch + "/in/sample.mp4")
        let out = scratch + "/out"
        let p = try startLongConversion(["batch", scratch + "/in", "-o", out, "--ext", "mkv"], watching: out)
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(listing(scratch))")
    }

    /// Rates beyond what any encoder keeps up with are usage errors naming the bound (exponent notation included), and
    /// a rate so low that no output frame falls within the input is an error, not an empty file.
    func testOutOfRangeRatesAndZeroFrameOutputsAreRefused() throws {
        for args in [["--fps", "1e9"], ["--fps", "999999999"], ["--factor", "5000"], ["--slowmo", "2000"]] {
            let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", scratch + "/o.mp4"] + args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.stderr.contains("invalid value '\(args[1])': at most 1000"), r.stderr)
        }
        try expectFailure(["--model", "blend", fixture("clip30.mp4"), "-o", scratch + "/o.mp4", "--fps", "0.001"],
                          line: "tween: error: \(fixture("clip30.mp4")): no output frames at 1/1000 fps within the input's 30 frame(s); raise the rate")
    }

    /// With --json a failure prints one JSON object with the error and the exit status on standard output.
    func testJSONFailuresPrintAnErrorObject() throws {
        let r = try tween(["--model", "blend", scratch + "/missing.mp4", "-o", scratch + "/o.mp4", "--json"])
        XCTAssertEqual(r.status, 1)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["status"] as? Int, 1)
        XCTAssertEqual(object["error"] as? String, r.stderrLines.first.map { String($0.dropFirst("tween: error: ".count)) })
        let usage = try tween(["eval", fixture("triplets"), "--model", "blend", "--json", "--threads", "0"])
        XCTAssertEqual(usage.status, 2)
        let u = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(usage.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(u["status"] as? Int, 2)
        XCTAssertTrue((u["error"] as? String ?? "").contains("--threads"), "\(u)")
    }

    /// Without a terminal, progress is a plain line every interval (no carriage returns or escape codes); --quiet
    /// silences it.
    func testProgressWithoutATerminalIsPlainLines() throws {
        let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", scratch + "/o.mp4"], environment: ["TWEEN_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderrLines.filter { $0.hasPrefix("tween: frame ") }
        XCTAssertGreaterThan(lines.count, 5, r.stderr)
        XCTAssertFalse(r.stderr.contains("\r") || r.stderr.contains("\u{1B}"))
        XCTAssertTrue(lines.last!.contains("fps"), lines.last!)
        let quiet = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", scratch + "/q.mp4", "--quiet"], environment: ["TWEEN_PROGRESS_INTERVAL": "0"])
        XCTAssertFalse(quiet.stderr.contains("tween: frame "), quiet.stderr)
    }
}
