import XCTest
import TestSupport
@testable import Tensor
@testable import Kernels

final class LocalOpTests: XCTestCase {
    func testSeparableAndDenseAgainstScalarReference() {
        let (n, c, h, w, k) = (2, 3, 4, 11, 5)
        let x = randomTensor([n, c, h + k - 1, w + k - 1], seed: 1, requiresGrad: false)
        let v = randomTensor([n, k, h, w], seed: 2, requiresGrad: false), hz = randomTensor([n, k, h, w], seed: 3, requiresGrad: false)
        let y = x.separableLocalConv(vertical: v, horizontal: hz)
        // The separable filter is the dense one with kernel v_i·h_j.
        var dense = [Float](repeating: 0, count: n * k * k * h * w)
        for b in 0..<n { for i in 0..<k { for j in 0..<k { for p in 0..<(h * w) {
            dense[((b * k * k) + i * k + j) * h * w + p] = v.data[(b * k + i) * h * w + p] * hz.data[(b * k + j) * h * w + p]
        } } } }
        let yd = x.denseLocalConv(kernels: Tensor(shape: [n, k * k, h, w], data: dense), size: k)
        for b in 0..<n { for ch in 0..<c { for yy in 0..<h { for xx in 0..<w {
            var s = 0.0
            for i in 0..<k { for j in 0..<k {
                let vi: Int = (b * k + i) * h * w + yy * w + xx
                let hj: Int = (b * k + j) * h * w + yy * w + xx
                let xi: Int = ((b * c + ch) * (h + k - 1) + yy + i) * (w + k - 1) + xx + j
                let product: Double = Double(v.data[vi]) * Double(hz.data[hj])
                s += product * Double(x.data[xi])
            } }
            let o = ((b * c + ch) * h + yy) * w + xx
            XCTAssertEqual(y.data[o], Float(s), accuracy: 1e-5)    // 25 products of values in [-1, 1)
            XCTAssertEqual(yd.data[o], Float(s), accuracy: 1e-5)
        } } } }
    }

    /// The separable filter's gradients against a scalar reference, at a width that takes every path of the kernel
    /// gradients (a 32-lane block, an 8-lane block and a scalar tail): kernel gradients within 1e-5·(1 + |ref|)
    /// (a reordered float sum of 2·5·5 products of values in [-1, 1)); the input gradient bit for bit, since it
    /// keeps the reference's products and their order.
    func testSeparableBackwardAgainstScalarReference() {
        let (n, c, h, w, k) = (2, 2, 3, 45, 5)
        let (ph, pw) = (h + k - 1, w + k - 1)
        let x = randomTensor([n, c, ph, pw], seed: 11, requiresGrad: false)
        let v = randomTensor([n, k, h, w], seed: 12, requiresGrad: false), hz = randomTensor([n, k, h, w], seed: 13, requiresGrad: false)
        let g = randomTensor([n, c, h, w], seed: 14, requiresGrad: false)
        var di = [Float](repeating: 0, count: x.count), dv = [Float](repeating: 0, count: v.count), dh = dv
        LocalConvolution.separableBackward(g.data, input: x.data, vertical: v.data, horizontal: hz.data, batch: n, channels: c,
                                           height: h, width: w, kernel: k, gradInput: &di, gradVertical: &dv, gradHorizontal: &dh)
        var ri = [Float](repeating: 0, count: x.count), rv = [Double](repeating: 0, count: v.count), rh = rv
        for b in 0..<n { for ch in 0..<c { for yy in 0..<h { for i in 0..<k { for j in 0..<k { for xx in 0..<w {
            let gi = g.data[((b * c + ch) * h + yy) * w + xx], vi = v.data[((b * k + i) * h + yy) * w + xx]
            let hj = hz.data[((b * k + j) * h + yy) * w + xx], s = x.data[((b * c + ch) * ph + yy + i) * pw + xx + j]
            ri[((b * c + ch) * ph + yy + i) * pw + xx + j] += gi * vi * hj
            rv[((b * k + i) * h + yy) * w + xx] += Double(gi) * Double(hj) * Double(s)
            rh[((b * k + j) * h + yy) * w + xx] += Double(gi) * Double(vi) * Double(s)
        } } } } } }
        XCTAssertEqual(di, ri, "input gradient")
        for q in 0..<v.count {
            XCTAssertEqual(Double(dv[q]), rv[q], accuracy: 1e-5 * (1 + abs(rv[q])), "vertical \(q)")
            XCTAssertEqual(Double(dh[q]), rh[q], accuracy: 1e-5 * (1 + abs(rh[q])), "horizontal \(q)")
        }
    }

    func testLongSumsAreCompensated() {
        // 51×51 taps of 0.1 × 0.1 on a constant 1: the exact sum is 26.01; naive float sums drift in the 5th digit.
        let k = 51, w = 9
        let x = Tensor(repeating: 1, shape: [1, 1, k, w + k - 1])
        let v = Tensor(repeating: 0.1, shape: [1, k, 1, w]), hz = v
        let y = x.separableLocalConv(vertical: v, horizontal: hz)
        for value in y.data { XCTAssertEqual(value, 26.01, accuracy: 2e-5) }
    }

    func testCorrelationByHandAndReference() {
        // One channel, 1×3: a = [1 2 3], b = [4 5 6], d = 1: displacement −1 reads the left neighbour.
        let a = Tensor(shape: [1, 1, 1, 3], data: [1, 2, 3]), b = Tensor(shape: [1, 1, 1, 3], data: [4, 5, 6])
        let c = a.correlation(b, maxDisplacement: 1)
        XCTAssertEqual(c.shape, [1, 9, 1, 3])
        // Channel (dy + 1)·3 + (dx + 1).
        XCTAssertEqual(Array(c.data[0..<9]), [Float](repeating: 0, count: 9))   // dy = −1: outside
        XCTAssertEqual(Array(c.data[9..<12]), [0, 8, 15])       // (dy, dx) = (0, −1)
        XCTAssertEqual(Array(c.data[12..<15]), [4, 10, 18])     // (0, 0)
        XCTAssertEqual(Array(c.data[15..<18]), [5, 12, 0])      // (0, +1)
    }

    func testSplattingByHand() {
        let x = Tensor(shape: [1, 1, 1, 3], data: [1, 2, 3])
        let right = Tensor(shape: [1, 2, 1, 3], data: [1, 1, 1, 0, 0, 0])
        XCTAssertEqual(x.splatted(by: right).data, [0, 1, 2])          // 3 leaves the image
        let half = Tensor(shape: [1, 2, 1, 3], data: [0.5, 0.5, 0.5, 0, 0, 0])
        XCTAssertEqual(x.splatted(by: half).data, [0.5, 1.5, 2.5])
        // Two samples landing on one pixel: average splatting takes their mean.
        let collide = Tensor(shape: [1, 2, 1, 3], data: [1, 0, 0, 0, 0, 0])
        let avg = x.averageSplatted(by: collide)
        XCTAssertEqual(avg.data[1], 1.5, accuracy: 1e-6)
        // Softmax splatting weighs by exp(Z): a much larger Z for sample 2 wins the pixel.
        let z = Tensor(shape: [1, 1, 1, 3], data: [0, 10, 0])
        XCTAssertEqual(x.softmaxSplatted(by: collide, metric: z).data[1], 2, accuracy: 1e-3)
    }

    func testGradients() {
        let (k, h, w) = (3, 3, 10)
        let x = randomTensor([1, 2, h + k - 1, w + k - 1], seed: 4)
        let v = randomTensor([1, k, h, w], seed: 5), hz = randomTensor([1, k, h, w], seed: 6)
        checkGradients([x, v, hz]) { $0[0].separableLocalConv(vertical: $0[1], horizontal: $0[2]) }
        checkGradients([x, randomTensor([1, k * k, h, w], seed: 7)]) { $0[0].denseLocalConv(kernels: $0[1], size: k) }
        let a = randomTensor([2, 3, 4, 5], seed: 8), b = randomTensor([2, 3, 4, 5], seed: 9)
        checkGradients([a, b]) { $0[0].correlation($0[1], maxDisplacement: 2) }
        // Splatting: flows away from integer positions (bilinear kinks).
        let img = randomTensor([1, 2, 4, 5], seed: 10)
        let flow = Tensor(shape: [1, 2, 4, 5], data: (0..<40).map { Float($0 % 9) * 0.23 - 0.909 }, requiresGrad: true)
        checkGradients([img, flow], eps: 1e-3, atol: 3e-3) { $0[0].splatted(by: $0[1]) }
        let z = randomTensor([1, 1, 4, 5], seed: 11)
        checkGradients([img, flow, z], eps: 1e-3, atol: 5e-3, rtol: 5e-2) { $0[0].softmaxSplatted(by: $0[1], metric: $0[2]) }
    }
}

final class ScalarReferenceTests: XCTestCase {
    func testCorrelationAndSplattingAgainstScalarLoopsAtAwkwardSizes() {
        for (h, w, c, d) in [(1, 1, 1, 1), (7, 9, 3, 2), (5, 63, 2, 3)] {
            let a = randomTensor([1, c, h, w], seed: UInt64(h * 100 + w), requiresGrad: false)
            let b = randomTensor([1, c, h, w], seed: UInt64(h * 7 + w), requiresGrad: false)
            let out = a.correlation(b, maxDisplacement: d), side = 2 * d + 1
            for dy in -d...d { for dx in -d...d { for y in 0..<h { for x in 0..<w {
                var s: Float = 0
                if y + dy >= 0 && y + dy < h && x + dx >= 0 && x + dx < w {
                    for ch in 0..<c { s += a.data[(ch * h + y) * w + x] * b.data[(ch * h + y + dy) * w + x + dx] }
                }
                XCTAssertEqual(out.data[(((dy + d) * side + dx + d) * h + y) * w + x], s / Float(c), accuracy: 1e-6)
            } } } }
            // Splatting: each sample lands on four pixels with bilinear weights.
            let flow = randomTensor([1, 2, h, w], seed: UInt64(w), requiresGrad: false) * 2
            let splat = a.splatted(by: flow)
            var expected = [Float](repeating: 0, count: c * h * w)
            for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                let tx = Float(x) + flow.data[y * w + x], ty = Float(y) + flow.data[h * w + y * w + x]
                let x0 = Int(tx.rounded(.down)), y0 = Int(ty.rounded(.down)), fx = tx - Float(x0), fy = ty - Float(y0)
                for (yy, xx, wt) in [(y0, x0, (1 - fx) * (1 - fy)), (y0, x0 + 1, fx * (1 - fy)), (y0 + 1, x0, (1 - fx) * fy), (y0 + 1, x0 + 1, fx * fy)]
                where yy >= 0 && yy < h && xx >= 0 && xx < w {
                    expected[(ch * h + yy) * w + xx] += wt * a.data[(ch * h + y) * w + x]
                }
            } } }
            for i in 0..<expected.count { XCTAssertEqual(splat.data[i], expected[i], accuracy: 1e-5) }
        }
    }
}

final class CensusTests: XCTestCase {
    /// The composition the fused kernel replaced: 48 shifted slices of the replicate-padded image, each transformed,
    /// concatenated, and the soft distance averaged.
    func composedCensus(_ a: Tensor, _ b: Tensor, patch: Int = 7) -> Tensor {
        func transform(_ x: Tensor) -> Tensor {
            let r = patch / 2, (h, w) = (x.shape[2], x.shape[3])
            let padded = x.padded(top: r, bottom: r, left: r, right: r, mode: .replicate)
            var parts: [Tensor] = []
            for dy in 0..<patch { for dx in 0..<patch where !(dy == r && dx == r) {
                let d = padded.slice(axis: 2, dy..<(dy + h)).slice(axis: 3, dx..<(dx + w)) - x
                parts.append(d / (d.squared() + 0.81).sqrt())
            } }
            return Tensor.concat(parts)
        }
        let d = (transform(a) - transform(b)).squared()
        return (d / (d + 0.1)).mean()
    }

    /// Against the composed operations at widths with and without a vector tail (tolerance: float sums of up to
    /// 48·N·H·W terms in another order, 1e-6 relative; gradients 1e-5 of their largest magnitude).
    func testFusedCensusMatchesTheComposedOperations() {
        for (n, h, w, patch) in [(2, 9, 21, 7), (1, 16, 8, 7), (3, 5, 3, 5)] {
            let a = randomTensor([n, 1, h, w], seed: 1), b = randomTensor([n, 1, h, w], seed: 2)
            let fused = a.censusDistance(b, patch: patch), composed = composedCensus(a, b, patch: patch)
            XCTAssertEqual(fused.scalar, composed.scalar, accuracy: 1e-6 * Swift.abs(composed.scalar))
            fused.backward()
            let (fa, fb) = (a.grad!.data, b.grad!.data)
            a.zeroGrad(); b.zeroGrad()
            composed.backward()
            let scale = a.grad!.data.map(Swift.abs).max()!
            for (x, y) in zip(fa, a.grad!.data) { XCTAssertEqual(x, y, accuracy: 1e-5 * scale) }
            for (x, y) in zip(fb, b.grad!.data) { XCTAssertEqual(x, y, accuracy: 1e-5 * scale) }
        }
    }

    func testCensusGradientsAndThreadCounts() {
        let a = randomTensor([2, 1, 6, 11], seed: 3), b = randomTensor([2, 1, 6, 11], seed: 4)
        checkGradients([a, b]) { $0[0].censusDistance($0[1]) }
        let x = randomTensor([3, 1, 20, 37], seed: 5, requiresGrad: false), y = randomTensor([3, 1, 20, 37], seed: 6, requiresGrad: false)
        func run(_ threads: Int) -> (Double, [Float]) {
            var g = [Float](repeating: 0, count: x.count)
            let pool = ThreadPool(threads: threads)
            let s = x.data.withUnsafeBufferPointer { pa in y.data.withUnsafeBufferPointer { pb in
                g.withUnsafeMutableBufferPointer { pg in
                    Census.distanceBackward(pa.baseAddress!, pb.baseAddress!, batch: 3, height: 20, width: 37, scale: 1, gradA: pg.baseAddress!, gradB: nil, pool: pool)
                }
                return Census.distanceSum(pa.baseAddress!, pb.baseAddress!, batch: 3, height: 20, width: 37, pool: pool)
            } }
            return (s, g)
        }
        let one = run(1), three = run(3)
        XCTAssertEqual(one.0, three.0); XCTAssertEqual(one.1, three.1)
    }
}
