import Foundation

/// Elementwise kernels on contiguous buffers, written once against `Vec8` with a scalar tail, threaded in chunks
/// for large arrays. Broadcasting is handled by the caller as runs of these (a per-channel operand is a run per
/// plane).
public enum Elementwise {
    public enum Binary: Sendable { case add, subtract, multiply, divide }
    public enum Unary: Sendable, Equatable { case relu, leakyReLU(Float), sigmoid, tanh }

    /// Below this many elements the work stays on the calling thread (a split costs more than it saves).
    static let parallelThreshold = 1 << 16
    static let chunk = 1 << 14

    @inline(__always)
    static func chunks(_ n: Int, pool: ThreadPool, _ body: @escaping (Int, Int) -> Void) {
        if n < parallelThreshold || pool.threads == 1 { body(0, n); return }
        let count = (n + chunk - 1) / chunk
        pool.parallelFor(count) { i in body(i * chunk, min(n, (i + 1) * chunk)) }
    }

    /// out = a ∘ b (same length); `b` may alias nothing, `out` may alias `a`.
    public static func binary(_ op: Binary, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, count n: Int, pool: ThreadPool = .shared) {
        let (aa, ba, oa) = (Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: out))
        chunks(n, pool: pool) { lo, hi in
            let a = UnsafePointer<Float>(bitPattern: aa)!, b = UnsafePointer<Float>(bitPattern: ba)!
            let o = UnsafeMutablePointer<Float>(bitPattern: oa)!
            var i = lo
            switch op {
            case .add: while i + 8 <= hi { store8(load8(a + i) + load8(b + i), o + i); i += 8 }
            case .subtract: while i + 8 <= hi { store8(load8(a + i) - load8(b + i), o + i); i += 8 }
            case .multiply: while i + 8 <= hi { store8(load8(a + i) * load8(b + i), o + i); i += 8 }
            case .divide: while i + 8 <= hi { store8(load8(a + i) / load8(b + i), o + i); i += 8 }
            }
            while i < hi {
                switch op {
                case .add: o[i] = a[i] + b[i]
                case .subtract: o[i] = a[i] - b[i]
                case .multiply: o[i] = a[i] * b[i]
                case .divide: o[i] = a[i] / b[i]
                }
                i += 1
            }
        }
    }

    /// out = a ∘ s for one scalar s (same length; `out` may alias `a`).
    public static func scalar(_ op: Binary, _ a: UnsafePointer<Float>, _ s: Float, _ out: UnsafeMutablePointer<Float>,
                              count n: Int, pool: ThreadPool = .shared) {
        let (aa, oa) = (Int(bitPattern: a), Int(bitPattern: out))
        chunks(n, pool: pool) { lo, hi in
            let a = UnsafePointer<Float>(bitPattern: aa)!, o = UnsafeMutablePointer<Float>(bitPattern: oa)!
            let v = Vec8(repeating: s)
            var i = lo
            switch op {
            case .add: while i + 8 <= hi { store8(load8(a + i) + v, o + i); i += 8 }; while i < hi { o[i] = a[i] + s; i += 1 }
            case .subtract: while i + 8 <= hi { store8(load8(a + i) - v, o + i); i += 8 }; while i < hi { o[i] = a[i] - s; i += 1 }
            case .multiply: while i + 8 <= hi { store8(load8(a + i) * v, o + i); i += 8 }; while i < hi { o[i] = a[i] * s; i += 1 }
            case .divide: while i + 8 <= hi { store8(load8(a + i) / v, o + i); i += 8 }; while i < hi { o[i] = a[i] / s; i += 1 }
            }
        }
    }

    /// out = a ∘ s for a scalar s per run: `planes` runs of `plane` elements, run p using s[p % channels]
    /// (a [1, C, 1, 1] operand broadcast over NCHW).
    public static func perChannel(_ op: Binary, _ a: UnsafePointer<Float>, _ s: UnsafePointer<Float>, channels: Int,
                                  plane: Int, planes: Int, _ out: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (aa, sa, oa) = (Int(bitPattern: a), Int(bitPattern: s), Int(bitPattern: out))
        let run: (Int) -> Void = { p in
            let a = UnsafePointer<Float>(bitPattern: aa)! + p * plane, o = UnsafeMutablePointer<Float>(bitPattern: oa)! + p * plane
            let v = UnsafePointer<Float>(bitPattern: sa)![p % channels], vv = Vec8(repeating: v)
            var i = 0
            switch op {
            case .add: while i + 8 <= plane { store8(load8(a + i) + vv, o + i); i += 8 }; while i < plane { o[i] = a[i] + v; i += 1 }
            case .subtract: while i + 8 <= plane { store8(load8(a + i) - vv, o + i); i += 8 }; while i < plane { o[i] = a[i] - v; i += 1 }
            case .multiply: while i + 8 <= plane { store8(load8(a + i) * vv, o + i); i += 8 }; while i < plane { o[i] = a[i] * v; i += 1 }
            case .divide: while i + 8 <= plane { store8(load8(a + i) / vv, o + i); i += 8 }; while i < plane { o[i] = a[i] / v; i += 1 }
            }
        }
        if planes * plane < parallelThreshold { for p in 0..<planes { run(p) } } else { pool.parallelFor(planes, run) }
    }

    @inline(__always) static func apply(_ f: Unary, _ x: Float) -> Float {
        switch f {
        case .relu: return max(x, 0)
        case .leakyReLU(let s): return x > 0 ? x : x * s
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        }
    }

    /// out = f(x).
    public static func unary(_ f: Unary, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int,
                             pool: ThreadPool = .shared) {
        let (xa, oa) = (Int(bitPattern: x), Int(bitPattern: out))
        chunks(n, pool: pool) { lo, hi in
            let x = UnsafePointer<Float>(bitPattern: xa)!, o = UnsafeMutablePointer<Float>(bitPattern: oa)!
            var i = lo
            switch f {
            case .relu:
                while i + 8 <= hi { let v = load8(x + i); store8(v.replacing(with: 0, where: v .< 0), o + i); i += 8 }
            case .leakyReLU(let s):
                while i + 8 <= hi { let v = load8(x + i); store8(v.replacing(with: v * s, where: v .< 0), o + i); i += 8 }
            default: break
            }
            while i < hi { o[i] = apply(f, x[i]); i += 1 }
        }
    }

    /// PReLU: x for x > 0, slope[c]·x otherwise, per channel of NCHW.
    public static func prelu(_ x: UnsafePointer<Float>, slopes: UnsafePointer<Float>, channels: Int, plane: Int, planes: Int,
                             _ out: UnsafeMutablePointer<Float>) {
        for p in 0..<planes {
            let s = slopes[p % channels], vs = Vec8(repeating: s)
            let a = x + p * plane, o = out + p * plane
            var i = 0
            while i + 8 <= plane { let v = load8(a + i); store8(v.replacing(with: v * vs, where: v .< 0), o + i); i += 8 }
            while i < plane { o[i] = a[i] < 0 ? a[i] * s : a[i]; i += 1 }
        }
    }
}

/// Pointwise functions and the gradients of pointwise operations: out = g · f′ with f′ written from the input x
/// and the output y. Each lane computes exactly what the scalar formula does, in the same order.
extension Elementwise {
    public enum Pointwise: Sendable, Equatable { case abs, square, sqrt }

    /// out = f(x).
    public static func pointwise(_ f: Pointwise, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int,
                                 pool: ThreadPool = .shared) {
        let (xa, oa) = (Int(bitPattern: x), Int(bitPattern: out))
        chunks(n, pool: pool) { lo, hi in
            let x = UnsafePointer<Float>(bitPattern: xa)!, o = UnsafeMutablePointer<Float>(bitPattern: oa)!
            var i = lo
            switch f {
            case .abs: while i + 8 <= hi { let v = load8(x + i); store8(v.replacing(with: -v, where: v .< 0), o + i); i += 8 }
                while i < hi { o[i] = Swift.abs(x[i]); i += 1 }
            case .square: while i + 8 <= hi { let v = load8(x + i); store8(v * v, o + i); i += 8 }
                while i < hi { o[i] = x[i] * x[i]; i += 1 }
            case .sqrt: while i + 8 <= hi { store8(load8(x + i).squareRoot(), o + i); i += 8 }
                while i < hi { o[i] = x[i].squareRoot(); i += 1 }
            }
        }
    }

    /// The derivative an operation's backward multiplies the incoming gradient by.
    public enum Derivative: Sendable, Equatable {
        /// 1 for x > 0, else 0 (ReLU) or the slope (leaky ReLU).
        case step(negativeSlope: Float)
        /// y(1 − y).
        case sigmoid
        /// 1 − y².
        case tanh
        /// 1 for x > 0, −1 for x < 0, 0 at 0.
        case sign
        /// 2x.
        case twice
        /// 0.5 / y.
        case halfReciprocal
    }

    /// out = g · f′(x, y).
    public static func gradient(_ f: Derivative, g: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                                _ out: UnsafeMutablePointer<Float>, count n: Int, pool: ThreadPool = .shared) {
        let (ga, xa, ya, oa) = (Int(bitPattern: g), Int(bitPattern: x), Int(bitPattern: y), Int(bitPattern: out))
        chunks(n, pool: pool) { lo, hi in
            let g = UnsafePointer<Float>(bitPattern: ga)!, x = UnsafePointer<Float>(bitPattern: xa)!
            let y = UnsafePointer<Float>(bitPattern: ya)!, o = UnsafeMutablePointer<Float>(bitPattern: oa)!
            var i = lo
            let one = Vec8(repeating: 1), zero = Vec8(repeating: 0)
            switch f {
            case .step(let s):
                let vs = Vec8(repeating: s)
                while i + 8 <= hi { let v = load8(x + i); store8(load8(g + i) * vs.replacing(with: one, where: v .> 0), o + i); i += 8 }
            case .sigmoid:
                while i + 8 <= hi { let v = load8(y + i); store8(load8(g + i) * (v * (one - v)), o + i); i += 8 }
            case .tanh:
                while i + 8 <= hi { let v = load8(y + i); store8(load8(g + i) * (one - v * v), o + i); i += 8 }
            case .sign:
                while i + 8 <= hi {
                    let v = load8(x + i)
                    store8(load8(g + i) * zero.replacing(with: one, where: v .> 0).replacing(with: -one, where: v .< 0), o + i); i += 8
                }
            case .twice:
                let two = Vec8(repeating: 2)
                while i + 8 <= hi { store8(load8(g + i) * (two * load8(x + i)), o + i); i += 8 }
            case .halfReciprocal:
                let half = Vec8(repeating: 0.5)
                while i + 8 <= hi { store8(load8(g + i) * (half / load8(y + i)), o + i); i += 8 }
            }
            while i < hi { o[i] = g[i] * derivative(f, x[i], y[i]); i += 1 }
        }
    }

    /// The scalar f′(x, y) of `gradient`.
    @inline(__always) public static func derivative(_ f: Derivative, _ x: Float, _ y: Float) -> Float {
        switch f {
        case .step(let s): return x > 0 ? 1 : s
        case .sigmoid: return y * (1 - y)
        case .tanh: return 1 - y * y
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .twice: return 2 * x
        case .halfReciprocal: return 0.5 / y
        }
    }

    /// Σ of each of `planes` runs of `plane` elements, in double precision: out[p] for run p. Runs are split over the
    /// pool; each sums blocks of 8 lanes in float and adds the blocks in order, so any thread count gives the same
    /// bytes.
    public static func planeSums(_ x: UnsafePointer<Float>, plane: Int, planes: Int, _ out: UnsafeMutablePointer<Double>,
                                 pool: ThreadPool = .shared) {
        let (xa, oa) = (Int(bitPattern: x), Int(bitPattern: out))
        let run: (Int) -> Void = { p in
            let x = UnsafePointer<Float>(bitPattern: xa)! + p * plane
            UnsafeMutablePointer<Double>(bitPattern: oa)![p] = sum(x, count: plane)
        }
        if planes * plane < parallelThreshold || pool.threads == 1 { for p in 0..<planes { run(p) } } else { pool.parallelFor(planes, run) }
    }


    /// Σ x in double precision: 8-lane float partial sums over blocks of 256, each block added in order.
    public static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        var total = 0.0, i = 0
        while i + 256 <= n {
            var a = Vec8(repeating: 0), b = Vec8(repeating: 0)
            for j in stride(from: i, to: i + 256, by: 16) { a += load8(x + j); b += load8(x + j + 8) }
            total += Double((a + b).sum())
            i += 256
        }
        while i < n { total += Double(x[i]); i += 1 }
        return total
    }
}
