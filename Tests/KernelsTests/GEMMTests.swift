import XCTest
@testable import Kernels

/// Deterministic pseudo-random values in [-1, 1).
func randoms(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: s >> 11) % 2_000_000) / 1_000_000 - 1
    }
}

func gemm(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, bias: [Float]? = nil, activation: Activation = .none,
          pool: ThreadPool = ThreadPool(threads: 2)) -> [Float] {
    var packed = [Float](repeating: 0, count: GEMM.packedASize(m: m, k: k))
    var c = [Float](repeating: .nan, count: m * n)
    a.withUnsafeBufferPointer { pa in packed.withUnsafeMutableBufferPointer { GEMM.packA(pa.baseAddress!, lda: k, m: m, k: k, into: $0.baseAddress!) } }
    b.withUnsafeBufferPointer { pb in
        packed.withUnsafeBufferPointer { pa in
            c.withUnsafeMutableBufferPointer { pc in
                if let bias {
                    bias.withUnsafeBufferPointer { bb in
                        GEMM.multiply(m: m, n: n, k: k, packedA: pa.baseAddress!, b: MatrixPanels(pb.baseAddress!, ldb: n),
                                      c: pc.baseAddress!, ldc: n, bias: bb.baseAddress!, activation: activation, pool: pool)
                    }
                } else {
                    GEMM.multiply(m: m, n: n, k: k, packedA: pa.baseAddress!, b: MatrixPanels(pb.baseAddress!, ldb: n),
                                  c: pc.baseAddress!, ldc: n, activation: activation, pool: pool)
                }
            }
        }
    }
    return c
}

final class GEMMTests: XCTestCase {
    func testHandCheckable() {
        // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
        XCTAssertEqual(gemm([1, 2, 3, 4], [5, 6, 7, 8], m: 2, n: 2, k: 2), [19, 22, 43, 50])
        // With bias (10, 20) and ReLU on [1 -2]ᵀ·[1 1]: rows 1+10, −2+20.
        XCTAssertEqual(gemm([1, -2], [1, 1], m: 2, n: 2, k: 1, bias: [10, -30], activation: .relu), [11, 11, 0, 0])
        XCTAssertEqual(gemm([-2], [1, 3], m: 1, n: 2, k: 1, activation: .leakyReLU(0.5)), [-1, -3])
    }

    func testRandomAgainstScalarReferenceAtAwkwardSizes() {
        // Tolerance: float32 sums of up to 300 products of values in [-1, 1): 1e-4 relative to √k.
        for (m, n, k) in [(1, 1, 1), (7, 9, 63), (9, 7, 1), (5, 25, 257), (4, 24, 256), (13, 63, 300), (1, 100, 3)] {
            let a = randoms(m * k, seed: UInt64(m * 1000 + k)), b = randoms(k * n, seed: UInt64(n * 7 + k))
            let c = gemm(a, b, m: m, n: n, k: k), r = Reference.matmul(a, b, m: m, n: n, k: k)
            for i in 0..<c.count { XCTAssertEqual(c[i], r[i], accuracy: 1e-5 * Float(k).squareRoot() + 1e-6, "\(m)×\(n)×\(k) at \(i)") }
        }
    }

    func testSameBytesWhateverTheThreadCount() {
        let (m, n, k) = (20, 500, 300)
        let a = randoms(m * k, seed: 1), b = randoms(k * n, seed: 2)
        let one = gemm(a, b, m: m, n: n, k: k, pool: ThreadPool(threads: 1))
        XCTAssertEqual(one, gemm(a, b, m: m, n: n, k: k, pool: ThreadPool(threads: 2)))
        XCTAssertEqual(one, gemm(a, b, m: m, n: n, k: k, pool: ThreadPool(threads: 3)))
    }
}

final class ElementwiseTests: XCTestCase {
    func testByHandAndAgainstScalarAtAwkwardSizes() {
        var out = [Float](repeating: 0, count: 3)
        Elementwise.binary(.subtract, [5, 7, 9], [1, 2, 3], &out, count: 3)
        XCTAssertEqual(out, [4, 5, 6])
        Elementwise.unary(.leakyReLU(0.5), [-2, 0, 3], &out, count: 3)
        XCTAssertEqual(out, [-1, 0, 3])
        for n in [1, 7, 9, 63, 100_003] {
            let a = randoms(n, seed: UInt64(n)), b = randoms(n, seed: UInt64(n + 1)).map { $0 + 3 }
            var o = [Float](repeating: 0, count: n)
            for op in [Elementwise.Binary.add, .subtract, .multiply, .divide] {
                Elementwise.binary(op, a, b, &o, count: n, pool: ThreadPool(threads: 2))
                for i in 0..<n {
                    let r: Float = op == .add ? a[i] + b[i] : op == .subtract ? a[i] - b[i] : op == .multiply ? a[i] * b[i] : a[i] / b[i]
                    XCTAssertEqual(o[i], r)   // exact: the same single operation per element
                }
                Elementwise.scalar(op, a, 3.5, &o, count: n, pool: ThreadPool(threads: 2))
                for i in 0..<n {
                    let r: Float = op == .add ? a[i] + 3.5 : op == .subtract ? a[i] - 3.5 : op == .multiply ? a[i] * 3.5 : a[i] / 3.5
                    XCTAssertEqual(o[i], r)
                }
            }
            for f in [Elementwise.Unary.relu, .leakyReLU(0.1), .sigmoid, .tanh] {
                Elementwise.unary(f, a, &o, count: n)
                for i in stride(from: 0, to: n, by: max(1, n / 97)) { XCTAssertEqual(o[i], Elementwise.apply(f, a[i]), accuracy: 1e-7) }
            }
        }
    }

    func testPerChannelPReLUAndSoftmax() {
        var o = [Float](repeating: 0, count: 4)
        Elementwise.perChannel(.multiply, [1, 2, 3, 4], [10, 100], channels: 2, plane: 2, planes: 2, &o)
        XCTAssertEqual(o, [10, 20, 300, 400])
        Elementwise.prelu([-1, 2, -3, 4], slopes: [0.5, 0.25], channels: 2, plane: 2, planes: 2, &o)
        XCTAssertEqual(o, [-0.5, 2, -0.75, 4])
        // Two channels at one pixel: logits 0 and ln 3 give 1/4 and 3/4; a huge logit does not overflow.
        var s = [Float](repeating: 0, count: 2)
        Elementwise.softmaxChannels([0, Float(log(3.0))], batch: 1, channels: 2, plane: 1, &s)
        XCTAssertEqual(s[0], 0.25, accuracy: 1e-6); XCTAssertEqual(s[1], 0.75, accuracy: 1e-6)
        Elementwise.softmaxChannels([1000, 0], batch: 1, channels: 2, plane: 1, &s)
        XCTAssertEqual(s, [1, 0])
    }
}

final class PixelShuffleTests: XCTestCase {
    func testAgainstIndexFormulaAndInverse() {
        // [2 planes × r² = 9 channels] of 3 × 4 → 2 planes of 9 × 12, against the definition, then back.
        let r = 3, h = 3, w = 4, planes = 2
        let x = randoms(planes * r * r * h * w, seed: 5)
        var y = [Float](repeating: .nan, count: x.count), back = y
        PixelShuffle.apply(x, &y, planes: planes, r: r, h: h, w: w, pool: ThreadPool(threads: 2))
        for p in 0..<planes { for oy in 0..<h * r { for ox in 0..<w * r {
            let source = ((p * r * r + (oy % r) * r + ox % r) * h + oy / r) * w + ox / r
            XCTAssertEqual(y[(p * h * r + oy) * w * r + ox], x[source])
        } } }
        y.withUnsafeMutableBufferPointer { py in
            PixelShuffle.apply(&back, py.baseAddress!, planes: planes, r: r, h: h, w: w, inverse: true)
        }
        XCTAssertEqual(back, x)
    }
}
