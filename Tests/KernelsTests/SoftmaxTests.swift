import Foundation
import XCTest
@testable import Kernels

/// The vectorised softmax over channels and its gradient against plain double-precision formulas.
final class SoftmaxTests: XCTestCase {
    /// exp8 within 2 ulp of `exp` (relative 2.4e-7) over the range softmax feeds it, and 0 far below.
    func testVectorExponentialIsWithinTwoUlpOfExp() {
        var worst: Double = 0
        var x: Float = -87
        while x < 88 {
            let v = Elementwise.exp8(Vec8((0..<8).map { x + Float($0) * 0.0137 }))
            for l in 0..<8 {
                let exact = Foundation.exp(Double(x + Float(l) * 0.0137))
                worst = max(worst, Swift.abs(Double(v[l]) - exact) / exact)
            }
            x += 0.173
        }
        XCTAssertLessThan(worst, 2.4e-7)
        XCTAssertEqual(Elementwise.exp1(-200), 0, accuracy: 1e-37)
        XCTAssertEqual(Elementwise.exp1(0), 1)
    }

    func random(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(s >> 40) / Float(1 << 24) - 0.5) * scale
        }
    }

    /// Forward and backward against the scalar formulas in double precision (1e-5 relative to each value, for the
    /// gradient y·(g − Σgy) relative to y·(|g| + |Σgy|), since the difference cancels), on a plane
    /// that is not a multiple of the 64-pixel block, with 441 channels (a 21 × 21 kernel's half) and two items.
    func testMatchesTheScalarDefinition() {
        let (n, c, plane) = (2, 441, 64 + 37)
        let x = random(n * c * plane, seed: 1, scale: 30), g = random(n * c * plane, seed: 2, scale: 2)
        var y = [Float](repeating: 0, count: x.count), dx = y
        Elementwise.softmaxChannels(x, batch: n, channels: c, plane: plane, &y)
        Elementwise.softmaxChannelsBackward(y, g, batch: n, channels: c, plane: plane, &dx)
        var worstY: Double = 0, worstD: Double = 0
        for b in 0..<n { for p in 0..<plane {
            let idx = (0..<c).map { (b * c + $0) * plane + p }
            let m = idx.map { Double(x[$0]) }.max()!
            let e = idx.map { Foundation.exp(Double(x[$0]) - m) }, sum = e.reduce(0, +)
            let ref = e.map { $0 / sum }
            let dot = zip(idx, ref).map { Double(g[$0.0]) * $0.1 }.reduce(0, +)
            for (j, i) in idx.enumerated() {
                worstY = max(worstY, Swift.abs(Double(y[i]) - ref[j]) / max(ref[j], 1e-30))
                let dref = ref[j] * (Double(g[i]) - dot)
                worstD = max(worstD, Swift.abs(Double(dx[i]) - dref) / max(ref[j] * (Swift.abs(Double(g[i])) + Swift.abs(dot)), 1e-30))
            }
        } }
        XCTAssertLessThan(worstY, 1e-5)
        XCTAssertLessThan(worstD, 1e-5)
    }

    /// A pixel gets the same bytes whether it falls in a full block or in the remainder, so row bands of a frame
    /// match the whole frame.
    func testAPixelsResultDoesNotDependOnWhereItsBlockFalls() {
        let c = 50, plane = 70
        let x = random(c * plane, seed: 3, scale: 20)
        var whole = [Float](repeating: 0, count: x.count)
        Elementwise.softmaxChannels(x, batch: 1, channels: c, plane: plane, &whole, pool: ThreadPool(threads: 2))
        // Pixels 64…69 (remainder in the whole plane) and 0…5 (inside a block) computed as a plane of their own.
        for start in [64, 0] {
            let sub = (0..<c).flatMap { ch in x[(ch * plane + start)..<(ch * plane + start + 6)] }
            var out = [Float](repeating: 0, count: sub.count)
            Elementwise.softmaxChannels(sub, batch: 1, channels: c, plane: 6, &out)
            for ch in 0..<c { for p in 0..<6 { XCTAssertEqual(out[ch * 6 + p], whole[ch * plane + start + p]) } }
        }
    }
}
