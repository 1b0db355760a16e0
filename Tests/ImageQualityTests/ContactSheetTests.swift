import XCTest
import Frames
@testable import ImageQuality

final class ContactSheetTests: XCTestCase {
    func pattern(_ w: Int, _ h: Int, seed: Float) -> Image {
        Image(width: w, height: h, channels: 3, data: (0..<(3 * w * h)).map { i in 0.5 + 0.4 * sin(Float(i) * 0.37 + seed) })
    }

    /// Two pictures that differ only in a 10 × 10 patch at (37, 21): the 16-pixel square found covers the patch.
    func testDisagreementSquareCoversWhereThePicturesDiffer() {
        let a = pattern(96, 64, seed: 0)
        var b = a
        for c in 0..<3 { for y in 21..<31 { for x in 37..<47 { b[c, y, x] = 1 - a[c, y, x] } } }
        let (x, y) = ContactSheet.disagreementSquare([a, b], side: 16)
        XCTAssertTrue(x <= 37 && x + 16 >= 47 && y <= 21 && y + 16 >= 31, "square at (\(x), \(y))")
    }

    /// The layout: 1 + 2 columns of 96-pixel pictures with 2-pixel gaps; row 1 holds each method's frame exactly,
    /// and the error map of the method equal to the truth is black.
    func testSheetPlacesTheFramesAndTheirErrorMaps() {
        let truth = pattern(96, 64, seed: 1), other = pattern(96, 64, seed: 2)
        let sheet = ContactSheet.make(truth: truth, first: pattern(96, 64, seed: 3), last: pattern(96, 64, seed: 4),
                                      methods: [.init(label: "perfect", image: truth), .init(label: "other", image: other)])
        XCTAssertEqual(sheet.width, 3 * 96 + 4 * ContactSheet.gap)
        let label = 2 * (BitmapFont.height + 2) + 4, x0 = ContactSheet.gap + 96 + ContactSheet.gap
        let top = ContactSheet.gap + label
        // Away from the red outline of the zoomed square: compare the rows below it, or all rows right of it.
        let (sx, sy) = ContactSheet.disagreementSquare([truth, other], side: 16)
        for c in 0..<3 { for y in 0..<64 { for x in 0..<96 where !(x >= sx && x < sx + 16 && y >= sy && y < sy + 16) {
            XCTAssertEqual(sheet[c, top + y, x0 + x], truth[c, y, x], accuracy: 1e-6)
        } } }
        let mapTop = top + 64 + ContactSheet.gap + label
        for y in 0..<64 { for x in 0..<96 { XCTAssertEqual(sheet[0, mapTop + y, x0 + x], 0) } }
        XCTAssertGreaterThan((0..<64).map { sheet[0, mapTop + $0, x0 + 96 + ContactSheet.gap + 10] }.max()!, 0.1)
    }

    /// A letter sets exactly its glyph's pixels (at scale 2, four each), and unknown characters draw as "?".
    func testFontDrawsGlyphPixels() {
        var image = Image(width: 40, height: 20, channels: 3)
        BitmapFont.draw("a", into: &image, x: 1, y: 1, scale: 2, colour: [1, 1, 1])
        let bits = BitmapFont.glyphs["A"]!.reduce(0) { $0 + $1.nonzeroBitCount }
        XCTAssertEqual(image.data[0..<(40 * 20)].filter { $0 == 1 }.count, 4 * bits)
        var unknown = Image(width: 40, height: 20, channels: 3), question = unknown
        BitmapFont.draw("€", into: &unknown, x: 0, y: 0, scale: 1, colour: [1, 1, 1])
        BitmapFont.draw("?", into: &question, x: 0, y: 0, scale: 1, colour: [1, 1, 1])
        XCTAssertEqual(unknown, question)
    }
}
