import XCTest
import Frames
@testable import Media

final class ConversionTests: XCTestCase {
    var scratch = ""
    override func setUp() { scratch = makeScratchFolder("conv") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testRaises25fpsWithAudioTo60KeepingEverything() throws {
        let out = scratch + "/out.mkv"
        let r = try tween(["--model", "blend", fixture("clip25_av.mkv"), "-o", out, "--fps", "60", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["frames_in"] as? Int, 50)
        XCTAssertEqual(summary["frames_out"] as? Int, 120)
        XCTAssertEqual(summary["output_fps"] as? String, "60")
        XCTAssertEqual(summary["cuts"] as? Int, 0)

        let info = try probe(out, countFrames: true), input = try probe(fixture("clip25_av.mkv"))
        let s = streams(info)
        XCTAssertEqual(s.map { $0["codec_type"] as! String }, ["video", "audio", "subtitle"])
        XCTAssertEqual(s[0]["nb_read_frames"] as? String, "120")
        XCTAssertEqual(s[0]["r_frame_rate"] as? String, "60/1")
        for key in ["color_range", "color_space", "color_transfer", "color_primaries", "pix_fmt"] {
            XCTAssertEqual(s[0][key] as? String, streams(input)[0][key] as? String, key)
        }
        // Audio copied untouched: same codec, same packets, so the same duration.
        let audioIn = try runTool("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "packet=pts,duration",
                                                   "-of", "csv", fixture("clip25_av.mkv")]).stdout
        let audioOut = try runTool("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "packet=pts,duration",
                                                    "-of", "csv", out]).stdout
        XCTAssertEqual(audioIn, audioOut)
        XCTAssertFalse(audioIn.isEmpty)
        XCTAssertEqual((info["chapters"] as! [Any]).count, 2)
        XCTAssertEqual((info["format"] as! [String: Any])["tags"].map { ($0 as! [String: Any])["title"] as? String },
                       "Tween fixture")
        // The video lasts exactly 120 / 60 s.
        let videoPTS = try runTool("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time",
                                                    "-of", "csv=p=0", out]).stdout
        let times = videoPTS.split(separator: "\n").compactMap { Double($0) }.sorted()
        XCTAssertEqual(times.count, 120)
        XCTAssertEqual(times.last! - times.first!, 119.0 / 60, accuracy: 0.0015)   // Matroska stores milliseconds
    }

    func testNTSCConversionCountAndMp4Subtitles() throws {
        let out = scratch + "/ntsc.mp4"
        let r = try tween(["--model", "blend", fixture("clip23976.mp4"), "-o", out, "--fps", "59.94"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let s = streams(try probe(out, countFrames: true))[0]
        XCTAssertEqual(s["nb_read_frames"] as? String, "120")       // 48 × 2.5
        XCTAssertEqual(s["r_frame_rate"] as? String, "60000/1001")

        // mp4 holds mov_text subtitles but not SubRip: the SubRip stream is reported, not silently lost.
        let out2 = scratch + "/subs.mp4"
        let r2 = try tween(["--model", "blend", fixture("clip25_av.mkv"), "-o", out2, "--factor", "2"])
        XCTAssertEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("subtitle stream #2 (subrip) cannot be stored in .mp4: left out"), r2.stderr)
        let r3 = try tween(["--model", "blend", fixture("clip25_av.mp4"), "-o", scratch + "/movtext.mp4", "--factor", "2"])
        XCTAssertEqual(streams(try probe(scratch + "/movtext.mp4")).compactMap { $0["codec_name"] as? String }.prefix(3),
                       ["h264", "aac", "mov_text"])
        XCTAssertEqual(r3.status, 0)
    }

    func testSlowMotionDropsAudioAndSaysSo() throws {
        let out = scratch + "/slow.mkv"
        let r = try tween(["--model", "blend", fixture("clip25_av.mkv"), "-o", out, "--slowmo", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("slow motion: audio and subtitles are left out"), r.stderr)
        let s = streams(try probe(out, countFrames: true))
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[0]["nb_read_frames"] as? String, "200")
        XCTAssertEqual(s[0]["r_frame_rate"] as? String, "25/1")
    }

    /// Containers that round timestamps (Matroska and WebM keep milliseconds) pass every input frame of a 2×
    /// conversion through, as MP4 does: 23.976, 24, 30 and 60 fps, 12 frames each, made here by ffmpeg's testsrc.
    func testPassThroughIsExactWhateverTheContainerRoundsTimestampsTo() throws {
        for rate in ["24000/1001", "24", "30", "60"] {
            for (ext, codec) in [("mkv", ["-c:v", "ffv1"]), ("webm", ["-c:v", "libvpx-vp9", "-lossless", "1"]), ("mp4", ["-c:v", "libx264", "-qp", "0"])] {
                let input = scratch + "/in.\(ext)"
                _ = try runTool("/usr/bin/ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=\(rate)", "-frames:v", "12"]
                                + codec + [input])
                let r = try tween(["--model", "blend", input, "-o", scratch + "/out.mkv", "--factor", "2", "--json", "-y"])
                XCTAssertEqual(r.status, 0, r.stderr)
                let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
                XCTAssertEqual(summary["frames_in"] as? Int, 12, "\(rate) \(ext)")
                XCTAssertEqual(summary["passed_through"] as? Int, 12, "\(rate) \(ext): every input frame lands on an output time")
                XCTAssertEqual(summary["frames_out"] as? Int, 24, "\(rate) \(ext)")
            }
        }
    }

    func testPassThroughFramesAreBitExactInFFV1() throws {
        let out = scratch + "/lossless.mkv"
        XCTAssertEqual(try tween(["--model", "blend", fixture("lossless.mkv"), "-o", out, "--factor", "2", "--codec", "ffv1"]).status, 0)
        func md5s(_ path: String) throws -> [String] {
            try runTool("/usr/bin/ffmpeg", ["-v", "error", "-i", path, "-map", "0:v", "-f", "framemd5", "-"]).stdout
                .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last!) }
        }
        let a = try md5s(fixture("lossless.mkv")), b = try md5s(out)
        XCTAssertEqual(a.count, 25)
        guard b.count == 50 else { return XCTFail("expected 50 output frames, got \(b.count)") }
        for i in 0..<25 { XCTAssertEqual(b[2 * i], a[i], "frame \(i)") }
        XCTAssertNotEqual(b[1], a[0])
    }

    func testPNGSequencesInAndOutPassThroughExactly() throws {
        let out = scratch + "/frames/"
        let r = try tween(["--model", "blend", fixture("pngseq/f%03d.png"), "-o", out, "--input-fps", "10", "--fps", "20"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(listing(out).count, 20)
        for i in 0..<10 {
            let a = try PNGFile.read(fixture(String(format: "pngseq/f%03d.png", i + 1))).image
            let b = try PNGFile.read(out + String(format: "%06d.png", 2 * i + 1)).image
            XCTAssertEqual(a, b)
        }
        // A printf pattern as output, and refusing to clobber it.
        let pattern = scratch + "/p_%04d.png"
        XCTAssertEqual(try tween(["--model", "blend", fixture("pngseq"), "-o", pattern, "--input-fps", "10", "--factor", "2"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/p_0020.png"))
        let again = try tween(["--model", "blend", fixture("pngseq"), "-o", pattern, "--input-fps", "10", "--factor", "2"])
        XCTAssertEqual(again.status, 1)
    }

    func testTenBitStaysTenBitAndVFRIsTimedByTimestamps() throws {
        let out = scratch + "/ten.mkv"
        XCTAssertEqual(try tween(["--model", "blend", fixture("clip10bit.mkv"), "-o", out, "--factor", "2"]).status, 0)
        XCTAssertEqual(streams(try probe(out))[0]["pix_fmt"] as? String, "yuv420p10le")
        let vfr = scratch + "/vfr.mp4"
        let r = try tween(["--model", "blend", fixture("vfr.mkv"), "-o", vfr, "--fps", "50", "--json"])
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["frames_in"] as? Int, 34)
        XCTAssertEqual(summary["frames_out"] as? Int, 50)   // 1 s at 50 fps, gaps filled
        XCTAssertEqual(summary["interpolated"] as? Int, 16)
    }

    func testSceneCutIsCountedAndRotationKept() throws {
        let r = try tween(["--model", "blend", fixture("scenecut.mp4"), "-o", scratch + "/cut.mp4", "--factor", "2", "--json"])
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["cuts"] as? Int, 1)
        let off = try tween(["--model", "blend", fixture("scenecut.mp4"), "-o", scratch + "/nocut.mp4", "--factor", "2", "--scene-cut", "off", "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(off.stdout.utf8)) as! [String: Any])["cuts"] as? Int, 0)

        XCTAssertEqual(try tween(["--model", "blend", fixture("rotated.mp4"), "-o", scratch + "/rot.mp4", "--factor", "2"]).status, 0)
        XCTAssertEqual(try VideoReader(path: scratch + "/rot.mp4").info.rotation, 90)
        // A PNG sequence cannot carry the rotation: its pictures are turned upright instead.
        XCTAssertEqual(try tween(["--model", "blend", fixture("rotated.mp4"), "-o", scratch + "/rot/", "--factor", "2"]).status, 0)
        let png = try PNGFile.read(scratch + "/rot/000001.png").image
        XCTAssertEqual([png.width, png.height], [120, 160])
    }

    func testOtherCodecs() throws {
        for (codec, ext, name) in [("libx265", "mkv", "hevc"), ("libvpx-vp9", "webm", "vp9"), ("prores_ks", "mov", "prores"),
                                   ("libsvtav1", "mkv", "av1"), ("png", "mkv", "png")] {
            let out = scratch + "/c.\(codec).\(ext)"
            let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", out, "--factor", "2", "--codec", codec, "--quiet"])
            XCTAssertEqual(r.status, 0, "\(codec): \(r.stderr)")
            XCTAssertEqual(streams(try probe(out))[0]["codec_name"] as? String, name)
            // --quiet is silent whatever the encoder (x265 and SVT-AV1 log through their own loggers).
            XCTAssertEqual(r.stderr, "", codec)
        }
        // Without --codec, each container gets an encoder it can hold: VP9 in WebM, H.264 elsewhere.
        for (ext, name) in [("webm", "vp9"), ("mp4", "h264"), ("mkv", "h264")] {
            let out = scratch + "/default." + ext
            let r = try tween(["--model", "blend", fixture("clip30.mp4"), "-o", out, "--factor", "2"])
            XCTAssertEqual(r.status, 0, "\(ext): \(r.stderr)")
            XCTAssertEqual(streams(try probe(out))[0]["codec_name"] as? String, name, ext)
        }
    }
}

/// --dedup on a clip drawn on twos (every drawing shown twice at 24 fps): the repeats are dropped, so converting it
/// to 48 fps gives the frames that converting the 12 drawings a second to 48 fps gives, with the same count.
final class DedupTests: XCTestCase {
    /// Every decoded frame's 8-bit luma.
    func lumaFrames(_ path: String, width: Int = 96, height: Int = 64) throws -> [[UInt8]] {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        p.arguments = ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-"]
        p.standardOutput = out; p.standardError = FileHandle.nullDevice
        try p.run()
        let data = [UInt8](out.fileHandleForReading.readDataToEndOfFile())
        p.waitUntilExit()
        let n = width * height
        return (0..<(data.count / n)).map { Array(data[($0 * n)..<(($0 + 1) * n)]) }
    }

    func testDedupInterpolatesAcrossFramesDrawnOnTwos() throws {
        let scratch = makeScratchFolder("dedup")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let doubled = fixture("doubled12.mp4"), drawings = scratch + "/drawings12.mkv"
        // The 12 drawings a second on their own: every other frame, re-encoded losslessly (the same pixels).
        let made = try runTool("/usr/bin/ffmpeg", ["-v", "error", "-i", doubled, "-vf", "select=not(mod(n\\,2)),setpts=N/12/TB",
                                                   "-r", "12", "-c:v", "ffv1", drawings])
        XCTAssertEqual(made.status, 0, made.stderr)
        let input = try lumaFrames(doubled)
        XCTAssertEqual(input.count, 48)
        XCTAssertEqual((0..<24).filter { input[2 * $0] == input[2 * $0 + 1] }.count, 24, "each drawing is shown twice")

        func convert(_ source: String, _ out: String, _ extra: [String]) throws -> [String: Any] {
            let r = try tween(["--model", "blend", source, "-o", scratch + "/" + out, "--fps", "48", "--codec", "ffv1", "--json"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        }
        _ = try convert(drawings, "reference.mkv", [])
        _ = try convert(doubled, "plain.mkv", [])
        let summary = try convert(doubled, "dedup.mkv", ["--dedup"])
        let reference = try lumaFrames(scratch + "/reference.mkv"), plain = try lumaFrames(scratch + "/plain.mkv")
        let deduped = try lumaFrames(scratch + "/dedup.mkv")
        XCTAssertEqual(deduped.count, 96); XCTAssertEqual(plain.count, 96)
        // The same frames as from the drawings alone, up to the last drawing (after it both hold).
        XCTAssertEqual((0..<89).filter { deduped[$0] != reference[$0] }, [], "frames differing from the drawings' conversion")
        XCTAssertGreaterThan((0..<89).filter { plain[$0] != reference[$0] }.count, 40, "without --dedup the motion stalls")
        XCTAssertEqual(summary["duplicates_dropped"] as? Int, 23, "24 repeats, the last one held")
        XCTAssertEqual(summary["frames_in"] as? Int, 48)
        XCTAssertEqual(try tween(["--model", "blend", doubled, "-o", scratch + "/x.mkv", "--dedup-threshold", "1"]).status, 2)
    }
}

final class AlphaTests: XCTestCase {
    func testTransparencyIsKeptWhereTheCodecCanHoldIt() throws {
        let scratch = makeScratchFolder("alpha")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let ffv1 = try tween(["--model", "blend", fixture("rgbaseq"), "-o", scratch + "/a.mkv", "--input-fps", "10", "--factor", "2", "--codec", "ffv1"])
        XCTAssertEqual(ffv1.status, 0, ffv1.stderr)
        XCTAssertEqual(streams(try probe(scratch + "/a.mkv"))[0]["pix_fmt"] as? String, "bgra")
        let png = try tween(["--model", "blend", fixture("rgbaseq"), "-o", scratch + "/seq/", "--input-fps", "10", "--factor", "2"])
        XCTAssertEqual(png.status, 0)
        let back = try PNGFile.read(scratch + "/seq/000001.png")
        XCTAssertTrue(back.hasAlpha)
        XCTAssertEqual(back.image, try PNGFile.read(fixture("rgbaseq/f01.png")).image)
        let mp4 = try tween(["--model", "blend", fixture("rgbaseq"), "-o", scratch + "/a.mp4", "--input-fps", "10", "--factor", "2"])
        XCTAssertEqual(mp4.status, 0)
        XCTAssertTrue(mp4.stderr.contains("the alpha channel is dropped: libx264 in yuv444p cannot store it"), mp4.stderr)
    }
}

/// `tween - -o -`: YUV4MPEG2 in on standard input and out on standard output, with every message on standard error.
final class PipeTests: XCTestCase {
    /// Runs `tween` with `input` written to its standard input from another thread while its standard output is read.
    func tweenPiped(_ args: [String], input: Data) throws -> (status: Int32, stdout: Data, stderr: String) {
        let p = Process(), stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.executableURL = URL(fileURLWithPath: tweenBinary)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(["TWEEN_PROGRESS_INTERVAL": "3600"]) { $1 }
        p.standardInput = stdin; p.standardOutput = stdout; p.standardError = stderr
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let writer = Thread { stdin.fileHandleForWriting.write(input); try? stdin.fileHandleForWriting.close() }
        let reader = Thread { errBox.data = stderr.fileHandleForReading.readDataToEndOfFile() }
        writer.start(); reader.start()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished || !writer.isFinished { usleep(1000) }
        return (p.terminationStatus, out, String(decoding: errBox.data, as: UTF8.self))
    }

    /// The header line and the 4:2:0 pictures of a YUV4MPEG2 stream.
    func y4mFrames(_ data: Data, width: Int, height: Int) -> (header: String, frames: [Data]) {
        let bytes = [UInt8](data)
        guard let end = bytes.firstIndex(of: 10) else { return ("", []) }
        var frames: [Data] = [], at = end + 1
        let size = width * height * 3 / 2
        while at < bytes.count, let line = bytes[at...].firstIndex(of: 10), line - at < 80 {
            frames.append(Data(bytes[(line + 1)..<min(bytes.count, line + 1 + size)]))
            at = line + 1 + size
        }
        return (String(decoding: bytes[..<end], as: UTF8.self), frames)
    }

    /// A 30 fps clip piped in as y4m and doubled out as y4m: 60 frames at 60 fps, the even ones the input's pictures
    /// byte for byte (passed through), the odd ones new; the JSON summary goes to standard error.
    func testYUV4MPEG2RoundTripsThroughPipesOnBothSides() throws {
        let raw = try y4m(fixture("clip30.mp4"))
        let source = y4mFrames(raw, width: 160, height: 120)
        XCTAssertEqual(source.frames.count, 30)

        let r = try tweenPiped(["-", "--factor", "2", "-o", "-", "-f", "y4m", "--model", "blend", "--json"], input: raw)
        XCTAssertEqual(r.status, 0, r.stderr)
        let output = y4mFrames(r.stdout, width: 160, height: 120)
        XCTAssertTrue(output.header.hasPrefix("YUV4MPEG2 W160 H120 F60:1"), output.header)
        XCTAssertEqual(output.frames.count, 60)
        for i in 0..<30 { XCTAssertEqual(output.frames[2 * i], source.frames[i], "frame \(2 * i) passes input frame \(i) through") }
        XCTAssertNotEqual(output.frames[1], output.frames[0])
        let json = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        let summary = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["frames_out"] as? Int, 60)
        XCTAssertEqual(summary?["output"] as? String, "-")
    }

    /// The clip as y4m bytes (ffmpeg writes them to a scratch file; the pipe is the thing under test).
    func y4m(_ path: String) throws -> Data {
        let scratch = makeScratchFolder("y4m")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let made = try runTool("/usr/bin/ffmpeg", ["-v", "error", "-i", path, "-f", "yuv4mpegpipe", scratch + "/in.y4m"])
        XCTAssertEqual(made.status, 0, made.stderr)
        return try Data(contentsOf: URL(fileURLWithPath: scratch + "/in.y4m"))
    }

    /// Standard output without a container, and standard input that FFmpeg cannot read, fail in one line each.
    func testPipesWithoutAContainerOrWithGarbageFailInOneLine() throws {
        let noFormat = try tween([fixture("clip30.mp4"), "-o", "-", "--model", "blend"])
        XCTAssertEqual(noFormat.status, 1)
        XCTAssertEqual(noFormat.stderrLines, ["tween: error: -o -: standard output needs a container: add -f y4m (or mkv, nut, mpegts, mp4)"])
        XCTAssertEqual(noFormat.stdout, "")
        let garbage = try tweenPiped(["-", "-o", "-", "-f", "y4m", "--model", "blend"], input: Data(repeating: 7, count: 4096))
        XCTAssertEqual(garbage.status, 1)
        XCTAssertEqual(garbage.stderr.split(separator: "\n").count, 1, garbage.stderr)
        XCTAssertTrue(garbage.stderr.hasPrefix("tween: error: standard input: not a stream FFmpeg can read"), garbage.stderr)
        XCTAssertTrue(garbage.stdout.isEmpty)
    }
}

/// `--slowmo N --audio stretch`: the sound slowed N× with its pitch kept, ending with the picture; subtitles retimed.
final class SlowMotionAudioTests: XCTestCase {
    /// Each stream's first presentation time and end (the last packet's time plus its duration), in seconds.
    func span(_ path: String, stream: String) throws -> (start: Double, end: Double) {
        let r = try runTool("/usr/bin/ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries",
                                                  "packet=pts_time,duration_time", "-of", "csv=p=0", path])
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }.filter { $0.count == 2 }
        return (rows.map { $0[0] }.min() ?? .nan, rows.map { $0[0] + $0[1] }.max() ?? .nan)
    }

    /// clip25_av.mkv (2 s of picture, 2.026 s of AAC, two subtitles) slowed 4×: the audio lasts 4 × 2.026 s (within
    /// one AAC frame of priming, 25 ms) and ends within one video frame (40 ms) of the picture; each subtitle starts
    /// 4× as far after the picture's start as before (within 2 ms: Matroska's millisecond ticks).
    func testSlowMotionStretchesAudioToThePicturesLengthAndRetimesSubtitles() throws {
        let scratch = makeScratchFolder("stretch")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let input = fixture("clip25_av.mkv"), out = scratch + "/slow.mkv"
        let r = try tween([input, "-o", out, "--slowmo", "4", "--audio", "stretch", "--model", "blend"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("audio stream #1 (aac) slowed 4× with its pitch kept"), r.stderr)
        XCTAssertEqual(streams(try probe(out)).map { $0["codec_type"] as? String }, ["video", "audio", "subtitle"])
        let (videoIn, audioIn) = (try span(input, stream: "v"), try span(input, stream: "a"))
        let (video, audio) = (try span(out, stream: "v"), try span(out, stream: "a"))
        XCTAssertEqual(video.end - video.start, 4 * (videoIn.end - videoIn.start), accuracy: 0.001)
        XCTAssertEqual(audio.end - audio.start, 4 * (audioIn.end - audioIn.start), accuracy: 0.025)
        XCTAssertEqual(audio.end, video.end, accuracy: 0.04)
        let subtitles = { (path: String) throws -> [Double] in
            try runTool("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "s", "-show_entries", "packet=pts_time",
                                             "-of", "csv=p=0", path]).stdout.split(separator: "\n").compactMap { Double($0) }
        }
        let (before, after) = (try subtitles(input), try subtitles(out))
        XCTAssertEqual(after.count, 2)
        for (b, a) in zip(before, after) { XCTAssertEqual(a - video.start, 4 * (b - videoIn.start), accuracy: 0.002) }
    }

    /// A 440 Hz tone slowed 2× is still 440 Hz (a plain slow-down would make it 220 Hz), counted by zero crossings over
    /// the middle half of the decoded sound (within 2%), and lasts twice as long (within 30 ms).
    func testStretchedSoundKeepsItsPitch() throws {
        let scratch = makeScratchFolder("pitch")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let tone = scratch + "/tone.mkv", out = scratch + "/slow.mkv", raw = scratch + "/slow.f32"
        let made = try runTool("/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=1",
                                                   "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1",
                                                   "-c:v", "ffv1", "-c:a", "flac", tone])
        XCTAssertEqual(made.status, 0, made.stderr)
        let r = try tween([tone, "-o", out, "--slowmo", "2", "--audio", "stretch", "--model", "blend"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("encoded as flac"), "lossless sound stays lossless in Matroska: \(r.stderr)")
        let decoded = try runTool("/usr/bin/ffmpeg", ["-v", "error", "-i", out, "-map", "0:a", "-f", "f32le", "-ac", "1", raw])
        XCTAssertEqual(decoded.status, 0, decoded.stderr)
        let samples = try Data(contentsOf: URL(fileURLWithPath: raw)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(Double(samples.count) / 48000, 2, accuracy: 0.03)
        let middle = samples[(samples.count / 4)..<(3 * samples.count / 4)]
        let crossings = zip(middle.dropLast(), middle.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        let hertz = Double(crossings) / (Double(middle.count) / 48000)
        XCTAssertEqual(hertz, 440, accuracy: 440 * 0.02)
    }

    /// Without --audio, slow motion leaves the sound out and says how to keep it; --audio copy with --slowmo is refused.
    func testSlowMotionDefaultLeavesSoundOutAndSaysSo() throws {
        let scratch = makeScratchFolder("slowdefault")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let r = try tween([fixture("clip25_av.mkv"), "-o", scratch + "/slow.mkv", "--slowmo", "2", "--model", "blend"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("--audio stretch slows them too"), r.stderr)
        XCTAssertEqual(streams(try probe(scratch + "/slow.mkv")).map { $0["codec_type"] as? String }, ["video"])
        let refused = try tween([fixture("clip25_av.mkv"), "-o", scratch + "/x.mkv", "--slowmo", "2", "--audio", "copy"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("--audio copy with --slowmo"), refused.stderr)
    }
}
