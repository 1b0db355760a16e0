import XCTest
import Frames
@testable import Media

final class PNGTests: XCTestCase {
    var scratch = ""
    override func setUp() { scratch = makeScratchFolder("png") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testReadsEveryLayout() throws {
        let rgb16 = try PNGFile.read(fixture("rgb16.png"))
        XCTAssertEqual(rgb16.bitDepth, 16); XCTAssertEqual(rgb16.image.channels, 3)
        XCTAssertEqual(rgb16.image.width, 40); XCTAssertEqual(rgb16.image.height, 30)
        let gray = try PNGFile.read(fixture("gray8.png"))
        XCTAssertEqual(gray.bitDepth, 8); XCTAssertEqual(gray.image.channels, 3)
        for i in 0..<gray.image.planeSize {   // gray replicated into R, G and B
            XCTAssertEqual(gray.image.data[i], gray.image.data[i + gray.image.planeSize])
            XCTAssertEqual(gray.image.data[i], gray.image.data[i + 2 * gray.image.planeSize])
        }
        let rgba = try PNGFile.read(fixture("rgba8.png"))
        XCTAssertTrue(rgba.hasAlpha); XCTAssertEqual(rgba.image.channels, 4)
    }

    func testHandWrittenPixelsRoundTripExactly() throws {
        // 2×1 RGB: red, then mid gray; read back at 8 and 16 bits without any change.
        let im = Image(width: 2, height: 1, channels: 3, data: [1, 128 / 255, 0, 128 / 255, 0, 128 / 255])
        for depth in [8, 16] {
            let path = scratch + "/px\(depth).png"
            try PNGFile.write(im, to: path, bitDepth: depth)
            let back = try PNGFile.read(path)
            XCTAssertEqual(back.bitDepth, depth)
            for (a, b) in zip(back.image.data, im.data) { XCTAssertEqual(a, b, accuracy: depth == 8 ? 0 : 1e-5) }
        }
        // 16-bit data survives a 16-bit write exactly.
        let src = try PNGFile.read(fixture("rgb16.png"))
        try PNGFile.write(src.image, to: scratch + "/copy16.png", bitDepth: 16)
        XCTAssertEqual(try PNGFile.read(scratch + "/copy16.png").image, src.image)
    }

    func testBadFilesGiveOneLineErrors() throws {
        XCTAssertThrowsError(try PNGFile.read(scratch + "/missing.png")) {
            XCTAssertEqual("\($0)", "\(self.scratch)/missing.png: no such file")
        }
        try "hello".write(toFile: scratch + "/text.png", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PNGFile.read(scratch + "/text.png")) {
            XCTAssertEqual("\($0)", "\(self.scratch)/text.png: not a PNG image")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture("rgb16.png")))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: scratch + "/cut.png"))
        XCTAssertThrowsError(try PNGFile.read(scratch + "/cut.png")) {
            XCTAssertTrue("\($0)".hasPrefix("\(self.scratch)/cut.png: corrupt PNG"), "\($0)")
            XCTAssertFalse("\($0)".contains("\n"))
        }
    }

    func testSequencePatternsAndNaturalOrder() throws {
        XCTAssertEqual(ImageSequencePath.format("a/f_%05d.png", 7), "a/f_00007.png")
        XCTAssertEqual(ImageSequencePath.format("%d.png", 12), "12.png")
        XCTAssertTrue(ImageSequencePath.naturalLess("f2.png", "f10.png"))
        let files = try ImageSequencePath.files(fixture("pngseq/f%03d.png"))
        XCTAssertEqual(files.count, 10)
        XCTAssertEqual(files.first.map { ($0 as NSString).lastPathComponent }, "f001.png")
        XCTAssertEqual(try ImageSequencePath.files(fixture("pngseq")), files)
    }

    func testSequenceReaderTimesFramesAtTheGivenRate() throws {
        let r = try ImageSequenceReader(path: fixture("pngseq"), frameRate: Rational(24000, 1001))
        var times: [Rational] = []
        while let f = try r.nextFrame() { times.append(f.time) }
        XCTAssertEqual(times, (0..<10).map { Rational(Int64($0) * 1001, 24000) })
    }

    func testMismatchedSequenceNamesTheFile() throws {
        let dir = scratch + "/seq"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("pngseq/f001.png"), toPath: dir + "/a1.png")
        try FileManager.default.copyItem(atPath: fixture("rgb16.png"), toPath: dir + "/a2.png")
        let r = try ImageSequenceReader(path: dir, frameRate: Rational(25))
        _ = try r.nextFrame()
        XCTAssertThrowsError(try r.nextFrame()) { XCTAssertEqual("\($0)", "\(dir)/a2.png: is 40×30 but the sequence is 64×48") }
    }
}
