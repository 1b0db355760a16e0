import XCTest
@testable import Kernels

/// The pointwise and gradient kernels against their scalar formulas (same bytes: each lane computes the formula in
/// the same order), at sizes that exercise the vector body, the scalar tail and the threaded split.
final class PointwiseKernelTests: XCTestCase {
    static let sizes = [1, 7, 9, 63, 70_001]

    func values(_ n: Int, seed: Int) -> [Float] {
        // Both signs, exact zeros and magnitudes from 1e-3 to 10.
        (0..<n).map { i in i % 11 == 0 ? 0 : Float(sin(Double(i * 7 + seed)) * pow(10, Double((i + seed) % 5) - 3)) }
    }

    func testPointwiseMatchesScalarFormulas() {
        let pool = ThreadPool(threads: 3)
        for n in Self.sizes {
            let x = values(n, seed: 1), positive = x.map { Swift.abs($0) + 0.01 }
            for (f, input, scalar) in [(Elementwise.Pointwise.abs, x, { (v: Float) in Swift.abs(v) }),
                                       (.square, x, { $0 * $0 }), (.sqrt, positive, { $0.squareRoot() })] {
                var out = [Float](repeating: .nan, count: n)
                input.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
                    Elementwise.pointwise(f, px.baseAddress!, po.baseAddress!, count: n, pool: pool)
                } }
                XCTAssertEqual(out, input.map(scalar), "\(f) n=\(n)")
            }
        }
    }

    func testGradientKernelsMatchScalarFormulas() {
        let pool = ThreadPool(threads: 3)
        let derivatives: [Elementwise.Derivative] = [.step(negativeSlope: 0), .step(negativeSlope: 0.1), .sigmoid, .tanh, .sign, .twice, .halfReciprocal]
        for n in Self.sizes {
            let g = values(n, seed: 2), x = values(n, seed: 3), y = values(n, seed: 4).map { Swift.abs($0) + 0.5 }
            for f in derivatives {
                var out = [Float](repeating: .nan, count: n)
                g.withUnsafeBufferPointer { pg in x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in
                    out.withUnsafeMutableBufferPointer { po in
                        Elementwise.gradient(f, g: pg.baseAddress!, x: px.baseAddress!, y: py.baseAddress!, po.baseAddress!, count: n, pool: pool)
                    }
                } } }
                let expected = (0..<n).map { i -> Float in
                    switch f {   // the formulas the closures of the replaced path computed
                    case .step(let s): return g[i] * (x[i] > 0 ? 1 : s)
                    case .sigmoid: return g[i] * (y[i] * (1 - y[i]))
                    case .tanh: return g[i] * (1 - y[i] * y[i])
                    case .sign: return g[i] * (x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0))
                    case .twice: return g[i] * (2 * x[i])
                    case .halfReciprocal: return g[i] * (0.5 / y[i])
                    }
                }
                XCTAssertEqual(out.map(\.bitPattern), expected.map(\.bitPattern), "\(f) n=\(n)")
            }
        }
    }

    /// Sums in double precision of float blocks: within 1e-6 relative of an exact double sum, and the same bytes on any
    /// thread count.
    func testPlaneSumsAgainstDoubleReferenceAndThreadCounts() {
        for (plane, planes) in [(1, 3), (255, 2), (257, 5), (65_536, 3)] {
            let x = values(plane * planes, seed: 5)
            var one = [Double](repeating: 0, count: planes), three = one
            x.withUnsafeBufferPointer { px in
                one.withUnsafeMutableBufferPointer { Elementwise.planeSums(px.baseAddress!, plane: plane, planes: planes, $0.baseAddress!, pool: ThreadPool(threads: 1)) }
                three.withUnsafeMutableBufferPointer { Elementwise.planeSums(px.baseAddress!, plane: plane, planes: planes, $0.baseAddress!, pool: ThreadPool(threads: 3)) }
            }
            XCTAssertEqual(one, three)
            for p in 0..<planes {
                let exact = x[(p * plane)..<((p + 1) * plane)].reduce(0.0) { $0 + Double($1) }
                let magnitude = x[(p * plane)..<((p + 1) * plane)].reduce(0.0) { $0 + Double(Swift.abs($1)) }
                XCTAssertEqual(one[p], exact, accuracy: 1e-6 * max(magnitude, 1e-30), "plane \(plane) × \(planes)")
            }
        }
    }
}
