import Foundation
import Kernels

/// Numpy broadcasting: shapes aligned from the right; a dimension of 1 stretches.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let n = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: n - a.count) + a, pb = [Int](repeating: 1, count: n - b.count) + b
    return (0..<n).map { i in
        precondition(pa[i] == pb[i] || pa[i] == 1 || pb[i] == 1, "shapes \(a) and \(b) do not broadcast")
        return max(pa[i], pb[i])
    }
}

/// Strides of `shape` seen from an output of `out` shape (0 where it is broadcast).
func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
    let padded = [Int](repeating: 1, count: out.count - shape.count) + shape
    var strides = [Int](repeating: 0, count: out.count)
    var s = 1
    for i in stride(from: out.count - 1, through: 0, by: -1) {
        strides[i] = padded[i] == 1 ? 0 : s
        s *= padded[i]
    }
    return strides
}

/// Calls body(outIndex, aIndex, bIndex, run) over runs of the last dimension.
@inline(__always)
func forEachBroadcast(_ out: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let n = out.count
    if n == 0 { body(0, 0, 0, 1, 0, 0); return }
    let inner = out[n - 1], ia = sa[n - 1], ib = sb[n - 1]
    let outer = out.dropLast().reduce(1, *)
    var idx = [Int](repeating: 0, count: max(0, n - 1))
    var offA = 0, offB = 0
    for o in 0..<outer {
        body(o * inner, offA, offB, inner, ia, ib)
        // Advance the multi-index over the outer dimensions.
        var d = n - 2
        while d >= 0 {
            idx[d] += 1; offA += sa[d]; offB += sb[d]
            if idx[d] < out[d] { break }
            offA -= sa[d] * out[d]; offB -= sb[d] * out[d]; idx[d] = 0
            d -= 1
        }
    }
}

extension Tensor {
    /// Elementwise binary op with broadcasting; `op` on whole vectors where the operands are contiguous.
    static func binary(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (shape: [Int], data: [Float]) {
        if a.shape == b.shape {
            var out = [Float](repeating: 0, count: a.count)
            a.data.withUnsafeBufferPointer { pa in b.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in for i in 0..<po.count { po[i] = f(pa[i], pb[i]) } }
            } }
            return (a.shape, out)
        }
        let shape = broadcastShape(a.shape, b.shape)
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        a.data.withUnsafeBufferPointer { pa in b.data.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { po in
            forEachBroadcast(shape, sa, sb) { o, ia, ib, n, da, db in
                for j in 0..<n { po[o + j] = f(pa[ia + j * da], pb[ib + j * db]) }
            }
        } } }
        return (shape, out)
    }

    /// Sums a broadcast gradient back down to `shape`.
    func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let st = broadcastStrides(target, to: shape)
        var out = [Float](repeating: 0, count: target.reduce(1, *))
        data.withUnsafeBufferPointer { pg in out.withUnsafeMutableBufferPointer { po in
            forEachBroadcast(shape, st, st) { o, it, _, n, dt, _ in
                for j in 0..<n { po[it + j * dt] += pg[o + j] }
            }
        } }
        return Tensor(shape: target, data: out)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, +)
        return result(shape, out, inputs: [a, b]) { g in [g.sum(toShape: a.shape), g.sum(toShape: b.shape)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, -)
        return result(shape, out, inputs: [a, b]) { g in [g.sum(toShape: a.shape), g.scaled(-1).sum(toShape: b.shape)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, *)
        return result(shape, out, inputs: [a, b]) { g in
            let ga = Tensor.binary(g, b, *), gb = Tensor.binary(g, a, *)
            return [Tensor(shape: ga.shape, data: ga.data).sum(toShape: a.shape),
                    Tensor(shape: gb.shape, data: gb.data).sum(toShape: b.shape)]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, /)
        return result(shape, out, inputs: [a, b]) { g in
            let ga = Tensor.binary(g, b, /)
            // d(a/b)/db = −a/b²
            let q = Tensor.binary(Tensor(shape: shape, data: out), b, /)
            let gb = Tensor.binary(g, Tensor(shape: q.shape, data: q.data), { -$0 * $1 })
            return [Tensor(shape: ga.shape, data: ga.data).sum(toShape: a.shape),
                    Tensor(shape: gb.shape, data: gb.data).sum(toShape: b.shape)]
        }
    }

    /// Untracked multiply by a constant (used inside backward functions).
    func scaled(_ s: Float) -> Tensor { Tensor(shape: shape, data: data.map { $0 * s }) }

    public static func * (a: Tensor, s: Float) -> Tensor {
        result(a.shape, a.data.map { $0 * s }, inputs: [a]) { g in [g.scaled(s)] }
    }
    public static func + (a: Tensor, s: Float) -> Tensor {
        result(a.shape, a.data.map { $0 + s }, inputs: [a]) { g in [g] }
    }
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    /// Elementwise function with its derivative written in terms of input x and output y.
    func unary(_ f: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let out = data.map(f)
        return Tensor.result(shape, out, inputs: [self]) { [data] g in
            var d = [Float](repeating: 0, count: out.count)
            for i in 0..<d.count { d[i] = g.data[i] * derivative(data[i], out[i]) }
            return [Tensor(shape: g.shape, data: d)]
        }
    }

    public func relu() -> Tensor { unary({ max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }
    public func leakyReLU(_ slope: Float = 0.01) -> Tensor {
        unary({ $0 > 0 ? $0 : $0 * slope }, derivative: { x, _ in x > 0 ? 1 : slope })
    }
    public func sigmoid() -> Tensor { unary({ 1 / (1 + Foundation.exp(-$0)) }, derivative: { _, y in y * (1 - y) }) }
    public func tanh() -> Tensor { unary({ Foundation.tanh($0) }, derivative: { _, y in 1 - y * y }) }
    public func abs() -> Tensor { unary({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    public func squared() -> Tensor { unary({ $0 * $0 }, derivative: { x, _ in 2 * x }) }
    public func sqrt() -> Tensor { unary({ $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    public func exp() -> Tensor { unary({ Foundation.exp($0) }, derivative: { _, y in y }) }

    /// Sum of all elements (a scalar).
    public func sum() -> Tensor {
        var s = 0.0
        for v in data { s += Double(v) }
        return Tensor.result([], [Float(s)], inputs: [self]) { [shape] g in [Tensor(repeating: g.scalar, shape: shape)] }
    }

    public func mean() -> Tensor { sum() * (1 / Float(count)) }

    /// Sum over N, H and W of an NCHW tensor, as [1, C, 1, 1].
    public func sum(keepingChannel: Bool) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var s = [Double](repeating: 0, count: c)
        for b in 0..<n { for ch in 0..<c {
            let base = (b * c + ch) * h * w
            for i in 0..<(h * w) { s[ch] += Double(data[base + i]) }
        } }
        return Tensor.result([1, c, 1, 1], s.map { Float($0) }, inputs: [self]) { [shape] g in
            [Tensor(shape: g.shape, data: g.data).broadcast(to: shape)]
        }
    }

    /// Untracked broadcast copy to a larger shape.
    func broadcast(to target: [Int]) -> Tensor {
        let (shape, out) = Tensor.binary(Tensor(zeros: target), self, { $1 })
        return Tensor(shape: shape, data: out)
    }

    /// The same values with another shape of the same size.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor.result(newShape, data, inputs: [self]) { [shape] g in [Tensor(shape: shape, data: g.data)] }
    }
}
