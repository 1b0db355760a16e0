import XCTest
@testable import Frames

final class SceneCutTests: XCTestCase {
    func image(_ f: (Int, Int) -> Float) -> Image {
        var im = Image(width: 128, height: 64)
        for c in 0..<3 { for y in 0..<64 { for x in 0..<128 { im[c, y, x] = f(x, y) } } }
        return im
    }

    func testCutBetweenUnrelatedFramesOnly() {
        var d = SceneCutDetector(threshold: 10)
        let ramp = { (s: Int) in self.image { x, _ in Float((x + s) % 128) / 127 } }
        XCTAssertFalse(d.push(ramp(0)).cut)       // first frame: nothing to compare
        XCTAssertFalse(d.push(ramp(2)).cut)       // small motion
        XCTAssertFalse(d.push(ramp(4)).cut)
        let r = d.push(image { _, y in y < 32 ? 1 : 0 })  // a different scene
        XCTAssertTrue(r.cut, "score \(r.score)")
        XCTAssertFalse(d.push(image { _, y in y < 32 ? 1 : 0 }).cut)  // a still frame after it
    }

    func testIdenticalFramesScoreZero() {
        var d = SceneCutDetector()
        let im = image { x, y in Float(x * y % 7) / 7 }
        _ = d.push(im)
        XCTAssertEqual(d.push(im).score, 0)
    }

    func testRotationByQuarterTurns() {
        // 2×3 image with values 0…5: turning clockwise moves the bottom-left sample to the top-left.
        let im = Image(width: 3, height: 2, channels: 1, data: [0, 1, 2, 3, 4, 5])
        let cw = im.rotatedClockwise(quarterTurns: 1)
        XCTAssertEqual(cw.width, 2); XCTAssertEqual(cw.height, 3)
        XCTAssertEqual(cw.data, [3, 0, 4, 1, 5, 2])
        XCTAssertEqual(im.rotatedClockwise(quarterTurns: 2).data, [5, 4, 3, 2, 1, 0])
        XCTAssertEqual(im.rotatedClockwise(quarterTurns: 3).data, [2, 5, 1, 4, 0, 3])
        XCTAssertEqual(im.rotatedClockwise(quarterTurns: 4), im)
    }
}
