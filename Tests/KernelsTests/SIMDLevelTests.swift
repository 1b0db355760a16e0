import XCTest
@testable import Kernels

/// The AVX-512 micro-kernels (4 × 48 tiles) against the AVX2 ones (4 × 24) and the scalar reference: each C element
/// is the same FMA chain on both, so the outputs must be identical bytes, not merely close.
final class SIMDLevelTests: XCTestCase {
    /// Runs `body` once per level this CPU has, AVX2 first, and returns the results.
    func atEachLevel<T>(_ body: () -> T) throws -> [T] {
        guard SIMDLevel.hostSupportsAVX512 else { throw XCTSkip("this CPU has no AVX-512; the AVX2 path is what the other kernel tests check") }
        let saved = SIMDLevel.current
        defer { SIMDLevel.current = saved }
        return [SIMDLevel.avx2, .avx512].map { level in SIMDLevel.current = level; return body() }
    }

    func testGEMMSameBytesAndReference() throws {
        // Edges of both panel widths (24, 48), K past one kc block (256), bias and activation in the epilogue.
        for (m, n, k) in [(1, 1, 1), (5, 47, 63), (9, 48, 257), (4, 49, 300), (13, 100, 513), (3, 24, 7)] {
            let a = randoms(m * k, seed: UInt64(m * 31 + k)), b = randoms(k * n, seed: UInt64(n * 17 + k))
            let bias = randoms(m, seed: UInt64(n))
            let runs = try atEachLevel { gemm(a, b, m: m, n: n, k: k, bias: bias, activation: .leakyReLU(0.1)) }
            XCTAssertEqual(runs[0], runs[1], "\(m)×\(n)×\(k)")
            var r = Reference.matmul(a, b, m: m, n: n, k: k)
            for i in 0..<r.count { let v = r[i] + bias[i / n]; r[i] = v < 0 ? 0.1 * v : v }
            // Tolerance: float32 sums of k products of values in [-1, 1): 1e-5·√k.
            for i in 0..<r.count { XCTAssertEqual(runs[1][i], r[i], accuracy: 1e-5 * Float(k).squareRoot() + 1e-6, "\(m)×\(n)×\(k) at \(i)") }
        }
    }

    func testConvolutionPathsSameBytesAndReference() throws {
        let savedChannels = Convolution.minimumWinogradChannels
        Convolution.minimumWinogradChannels = 16
        defer { Convolution.minimumWinogradChannels = savedChannels }
        let cases = [
            ConvGeometry(inChannels: 3, outChannels: 5, inHeight: 5, inWidth: 97, kernel: 3, pad: 1),                    // direct, partial 48 tile
            ConvGeometry(inChannels: 2, outChannels: 7, inHeight: 4, inWidth: 50, kernel: 5, pad: 2, dilation: 1, padding: .reflect),
            ConvGeometry(inChannels: 6, outChannels: 9, inHeight: 11, inWidth: 13, kernel: 3, stride: 2, pad: 1),        // packed im2col
            ConvGeometry(inChannels: 40, outChannels: 33, inHeight: 9, inWidth: 9, kernel: 3, pad: 1),                   // K > kc
            ConvGeometry(inChannels: 16, outChannels: 16, inHeight: 66, inWidth: 70, kernel: 3, pad: 1),                 // Winograd
        ]
        XCTAssertTrue(Convolution.usesDirectPath(cases[0]))
        XCTAssertTrue(Convolution.usesWinograd(cases[4]))
        for (i, g) in cases.enumerated() {
            let x = randoms(g.inChannels * g.inHeight * g.inWidth, seed: UInt64(i + 1))
            let w = randoms(g.outChannels * g.depth, seed: UInt64(i + 10)), b = randoms(g.outChannels, seed: UInt64(i + 20))
            let runs = try atEachLevel { () -> [Float] in
                var y = [Float](repeating: .nan, count: g.outChannels * g.outHeight * g.outWidth)
                x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in y.withUnsafeMutableBufferPointer { py in
                    Convolution.forward(input: px.baseAddress!, batch: 1, weights: pw.baseAddress!, bias: pb.baseAddress!,
                                        output: py.baseAddress!, geometry: g, pool: ThreadPool(threads: 2))
                } } } }
                return y
            }
            XCTAssertEqual(runs[0], runs[1], "case \(i)")
            let r = Reference.conv2d(x, w, b, batch: 1, g)
            // Winograd's transforms add a few roundings: 3e-5·√depth (1e-5·√depth would do for the others).
            let tol = 3e-5 * Float(g.depth).squareRoot()
            for j in 0..<r.count { XCTAssertEqual(runs[1][j], r[j], accuracy: tol, "case \(i) at \(j)") }
        }
    }

    func testBackwardSameBytes() throws {
        // The gradient tests check these against finite differences at the host's level; here the levels agree.
        let g = ConvGeometry(inChannels: 5, outChannels: 7, inHeight: 13, inWidth: 53, kernel: 3, stride: 1, pad: 1)
        let x = randoms(2 * g.inChannels * g.inHeight * g.inWidth, seed: 3), w = randoms(g.outChannels * g.depth, seed: 4)
        let dy = randoms(2 * g.outChannels * g.outHeight * g.outWidth, seed: 5)
        let runs = try atEachLevel { () -> [Float] in
            var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
            var db = [Float](repeating: .nan, count: g.outChannels)
            dy.withUnsafeBufferPointer { pdy in w.withUnsafeBufferPointer { pw in x.withUnsafeBufferPointer { px in
                dx.withUnsafeMutableBufferPointer { pdx in
                    Convolution.backwardInput(gradOutput: pdy.baseAddress!, weights: pw.baseAddress!, batch: 2,
                                              gradInput: pdx.baseAddress!, geometry: g, pool: ThreadPool(threads: 2))
                }
                dw.withUnsafeMutableBufferPointer { pdw in db.withUnsafeMutableBufferPointer { pdb in
                    Convolution.backwardWeights(gradOutput: pdy.baseAddress!, input: px.baseAddress!, batch: 2,
                                                gradWeights: pdw.baseAddress!, gradBias: pdb.baseAddress!, geometry: g,
                                                pool: ThreadPool(threads: 2))
                } }
            } } }
            return dx + dw + db
        }
        XCTAssertEqual(runs[0], runs[1])
        XCTAssertFalse(runs[1].contains { $0.isNaN })
    }
}
