import XCTest
import Frames
@testable import Media

final class VideoTests: XCTestCase {
    var scratch = ""
    override func setUp() { scratch = makeScratchFolder("video") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testReadsExactTimestampsAndColourTags() throws {
        let r = try VideoReader(path: fixture("clip25_av.mkv"))
        XCTAssertEqual(r.info.width, 160); XCTAssertEqual(r.info.height, 120)
        XCTAssertEqual(r.info.frameRate, Rational(25))
        XCTAssertEqual(r.info.colour, ColorTags(range: 1, primaries: 1, transfer: 1, matrix: 1))  // BT.709, limited
        let frames = try readAll(r)
        XCTAssertEqual(frames.count, 50)
        let start = frames[0].time
        XCTAssertEqual(frames.map { $0.time - start }, (0..<50).map { Rational(Int64($0), 25) })
    }

    func testNTSCRateTimesAreExact() throws {
        let r = try VideoReader(path: fixture("clip23976.mp4"))
        XCTAssertEqual(r.info.frameRate, Rational(24000, 1001))
        let frames = try readAll(r)
        XCTAssertEqual(frames.count, 48)
        let start = frames[0].time
        XCTAssertEqual(frames.map { $0.time - start }, (0..<48).map { Rational(Int64($0) * 1001, 24000) })
    }

    func testVariableFrameRateKeepsItsTimestamps() throws {
        let frames = try readAll(try VideoReader(path: fixture("vfr.mkv")))
        let gaps = Set(zip(frames, frames.dropFirst()).map { $1.time - $0.time })
        XCTAssertEqual(gaps, [Rational(20, 1000), Rational(40, 1000)])
    }

    func testTenBitRotationAndFormats() throws {
        let ten = try VideoReader(path: fixture("clip10bit.mkv"))
        XCTAssertEqual(ten.info.bitDepth, 10); XCTAssertEqual(ten.info.pixelFormat, "yuv420p10le")
        XCTAssertEqual(try VideoReader(path: fixture("rotated.mp4")).info.rotation, 90)
    }

    func testBadInputsGiveOneLineErrorsNamingTheFile() throws {
        func message(_ path: String, stream: Int? = nil) -> String {
            do { _ = try readAll(try VideoReader(path: path, stream: stream)); return "no error" } catch { return "\(error)" }
        }
        try "hello".write(toFile: scratch + "/text.mp4", atomically: true, encoding: .utf8)
        let mp4 = try Data(contentsOf: URL(fileURLWithPath: fixture("clip25_av.mp4")))
        try mp4.prefix(20_000).write(to: URL(fileURLWithPath: scratch + "/cut.mp4"))
        XCTAssertEqual(message(scratch + "/none.mp4"), "\(scratch)/none.mp4: no such file")
        XCTAssertEqual(message(scratch), "\(scratch): is a folder, not a video file")
        XCTAssertEqual(message(scratch + "/text.mp4"), "\(scratch)/text.mp4: not a media file FFmpeg can read")
        XCTAssertEqual(message(fixture("audio_only.wav")), "\(fixture("audio_only.wav")): has no video stream")
        XCTAssertEqual(message(fixture("unknown_codec.mkv")),
                       "\(fixture("unknown_codec.mkv")): unsupported codec (unknown, FourCC QQQQ): this FFmpeg has no decoder for it")
        XCTAssertTrue(message(scratch + "/cut.mp4").hasPrefix("\(scratch)/cut.mp4: truncated or corrupt QuickTime / MOV data"))
        XCTAssertEqual(message(fixture("clip25_av.mkv"), stream: 1), "\(fixture("clip25_av.mkv")): stream 1 is not a video stream")
        XCTAssertEqual(message(fixture("clip25_av.mkv"), stream: 7), "\(fixture("clip25_av.mkv")): has no stream 7 (it has 3 streams)")
    }

    func testCorruptDataIsCountedAndSkipped() throws {
        // Overwrite a run of bytes in the middle of the file: the decoder reports errors but goes on.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture("clip30.mp4"))))
        for i in (bytes.count / 2)..<(bytes.count / 2 + 3000) { bytes[i] = UInt8(truncatingIfNeeded: i * 7919) }
        try Data(bytes).write(to: URL(fileURLWithPath: scratch + "/damaged.mp4"))
        let r = try VideoReader(path: scratch + "/damaged.mp4")
        let frames = try readAll(r)
        XCTAssertGreaterThan(frames.count, 10)
        XCTAssertGreaterThan(r.decodeErrors, 0)
    }

    func testLosslessPassThroughIsBitExact() throws {
        let (a, b) = try reencode(fixture("lossless.mkv"), to: scratch + "/out.mkv", codec: "ffv1", native: true)
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) { XCTAssertEqual(x.image, y.image) }
    }

    func testColourRoundTripThroughFloatIsAbove50dB() throws {
        // No-op model: decode to float RGB, encode from float with the same matrix and range, decode again.
        let (a, b) = try reencode(fixture("lossless.mkv"), to: scratch + "/float.mkv", codec: "ffv1", native: false)
        XCTAssertEqual(a.count, b.count)
        let worst = zip(a, b).map { psnr($0.image, $1.image) }.min()!
        XCTAssertGreaterThan(worst, 50, "worst frame \(worst) dB")   // 4:2:0 chroma is resampled twice
    }

    func testTagsAndStreamsAreCopiedAndTheFileAppearsOnlyWhenDone() throws {
        let out = scratch + "/tags.mkv"
        let reader = try VideoReader(path: fixture("clip25_av.mkv"))
        let writer = try VideoWriter(path: out, settings: EncoderSettings(), width: 160, height: 120, rate: Rational(25),
                                     colour: reader.info.colour, source: reader, otherStreams: .copy)
        var i: Int64 = 0
        while let f = try reader.nextFrame() {
            try writer.write(f.image, native: f.native, index: i); i += 1
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))   // only the hidden partial file so far
        }
        try writer.finish()
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["tags.mkv"])
        let back = try VideoReader(path: out)
        XCTAssertEqual(back.info.colour, reader.info.colour)
        XCTAssertEqual(back.format.pointee.nb_streams, 3)          // video, audio, subtitles
        XCTAssertEqual(back.format.pointee.nb_chapters, 2)
    }

    /// A codec the container cannot store is refused before anything is left behind, naming the encoder and
    /// pointing to .mkv.
    func testACodecTheContainerCannotHoldIsRefusedWithAHint() throws {
        let out = scratch + "/lossless.mp4"
        XCTAssertThrowsError(try VideoWriter(path: out, settings: EncoderSettings(codec: "ffv1"), width: 64, height: 48, rate: Rational(25),
                                             colour: .unspecified, source: nil, otherStreams: .leaveOut)) {
            XCTAssertEqual("\($0)", "\(out): the mp4 container cannot hold this stream combination with ffv1 video (Invalid argument); .mkv (Matroska) holds every codec")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [])
    }

    func testAbortLeavesNothing() throws {
        let out = scratch + "/aborted.mp4"
        let writer = try VideoWriter(path: out, settings: EncoderSettings(), width: 64, height: 48, rate: Rational(25),
                                     colour: .unspecified, source: nil, otherStreams: .leaveOut)
        try writer.write(Image(width: 64, height: 48, fill: 0.5), native: nil, index: 0)
        writer.abort()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), [])
    }

    /// Codec tags print their printable bytes as they are and others (a NUL from a damaged header) escaped.
    func testFourCCIsPrintedPrintably() {
        XCTAssertEqual(FourCC.printable(0x3436_3248), "H264")
        XCTAssertEqual(FourCC.printable(0x0000_4241), "AB\\x00\\x00")
        XCTAssertEqual(FourCC.printable(0x1B7F_2041), "A \\x7F\\x1B")
    }
}
