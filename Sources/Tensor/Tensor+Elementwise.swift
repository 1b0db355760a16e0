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
    /// Elementwise binary op: the SIMD kernels for equal shapes and for a per-channel operand ([1, C, 1, 1] or
    /// [C, 1, 1] against NCHW), the general broadcasting loop otherwise.
    static func binary(_ a: Tensor, _ b: Tensor, _ op: Elementwise.Binary, _ f: (Float, Float) -> Float) -> (shape: [Int], data: [Float]) {
        if a.shape == b.shape {
            var out = outputStorage(a.count)
            a.data.withUnsafeBufferPointer { pa in b.data.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { po in
                Elementwise.binary(op, pa.baseAddress!, pb.baseAddress!, po.baseAddress!, count: po.count)
            } } }
            return (a.shape, out)
        }
        if a.rank == 4 && (b.shape == [1, a.shape[1], 1, 1] || b.shape == [a.shape[1], 1, 1]) {
            var out = outputStorage(a.count)
            a.data.withUnsafeBufferPointer { pa in b.data.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { po in
                Elementwise.perChannel(op, pa.baseAddress!, pb.baseAddress!, channels: a.shape[1], plane: a.shape[2] * a.shape[3],
                                       planes: a.shape[0] * a.shape[1], po.baseAddress!)
            } } }
            return (a.shape, out)
        }
        // One plane per image against all of the other's channels ([N, 1, H, W] with [N, C, H, W], either side):
        // a run of the kernel per channel plane (blending by a mask).
        if a.rank == 4 && b.rank == 4 && a.shape[0] == b.shape[0] && a.shape[2...] == b.shape[2...]
            && (a.shape[1] == 1) != (b.shape[1] == 1) {
            let (n, c, plane) = (a.shape[0], max(a.shape[1], b.shape[1]), a.shape[2] * a.shape[3])
            let shape = [n, c, a.shape[2], a.shape[3]]
            var out = outputStorage(n * c * plane)
            a.data.withUnsafeBufferPointer { pa in b.data.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { po in
                for image in 0..<n { for channel in 0..<c {
                    let offA = a.shape[1] == 1 ? image * plane : (image * c + channel) * plane
                    let offB = b.shape[1] == 1 ? image * plane : (image * c + channel) * plane
                    Elementwise.binary(op, pa.baseAddress! + offA, pb.baseAddress! + offB,
                                       po.baseAddress! + (image * c + channel) * plane, count: plane)
                } }
            } } }
            return (shape, out)
        }
        return binary(a, b, f)
    }

    /// Elementwise binary op with general broadcasting.
    static func binary(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (shape: [Int], data: [Float]) {
        if a.shape == b.shape {
            var out = Tensor.zeroedStorage(a.count)
            a.data.withUnsafeBufferPointer { pa in b.data.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in for i in 0..<po.count { po[i] = f(pa[i], pb[i]) } }
            } }
            return (a.shape, out)
        }
        let shape = broadcastShape(a.shape, b.shape)
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        var out = Tensor.zeroedStorage(shape.reduce(1, *))
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
        var out = Tensor.zeroedStorage(target.reduce(1, *))
        data.withUnsafeBufferPointer { pg in out.withUnsafeMutableBufferPointer { po in
            forEachBroadcast(shape, st, st) { o, it, _, n, dt, _ in
                for j in 0..<n { po[it + j * dt] += pg[o + j] }
            }
        } }
        return Tensor(shape: target, data: out)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, .add, +)
        return result(shape, out, inputs: [a, b]) { g in [g.sum(toShape: a.shape), g.sum(toShape: b.shape)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, .subtract, -)
        return result(shape, out, inputs: [a, b]) { g in [g.sum(toShape: a.shape), g.scaled(-1).sum(toShape: b.shape)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, .multiply, *)
        return result(shape, out, inputs: [a, b]) { g in
            let ga = Tensor.binary(g, b, .multiply, *), gb = Tensor.binary(g, a, .multiply, *)
            return [Tensor(shape: ga.shape, data: ga.data).sum(toShape: a.shape),
                    Tensor(shape: gb.shape, data: gb.data).sum(toShape: b.shape)]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = binary(a, b, .divide, /)
        return result(shape, out, inputs: [a, b]) { g in
            let ga = Tensor.binary(g, b, .divide, /)
            // d(a/b)/db = −a/b² = −g·(y/b)
            let q = Tensor.binary(Tensor(shape: shape, data: out), b, .divide, /)
            let gq = Tensor.binary(g, Tensor(shape: q.shape, data: q.data), .multiply, *)
            let gb = (shape: gq.shape, data: Tensor(shape: gq.shape, data: gq.data).withScalar(.multiply, -1))
            return [Tensor(shape: ga.shape, data: ga.data).sum(toShape: a.shape),
                    Tensor(shape: gb.shape, data: gb.data).sum(toShape: b.shape)]
        }
    }

    /// Untracked multiply by a constant (used inside backward functions).
    func scaled(_ s: Float) -> Tensor { Tensor(shape: shape, data: withScalar(.multiply, s)) }

    public static func * (a: Tensor, s: Float) -> Tensor {
        result(a.shape, a.withScalar(.multiply, s), inputs: [a]) { g in [g.scaled(s)] }
    }
    public static func + (a: Tensor, s: Float) -> Tensor {
        result(a.shape, a.withScalar(.add, s), inputs: [a]) { g in [g] }
    }

    /// data ∘ s on all threads, into recycled storage.
    func withScalar(_ op: Elementwise.Binary, _ s: Float) -> [Float] {
        var out = Tensor.outputStorage(count)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Elementwise.scalar(op, px.baseAddress!, s, po.baseAddress!, count: count)
        } }
        return out
    }
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    /// Elementwise function with its derivative written in terms of input x and output y (scalar; `exp`).
    func unary(_ f: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let out = data.map(f)
        return Tensor.result(shape, out, inputs: [self]) { [data] g in
            var d = Tensor.outputStorage(out.count)
            for i in 0..<d.count { d[i] = g.data[i] * derivative(data[i], out[i]) }
            return [Tensor(shape: g.shape, data: d)]
        }
    }

    /// A pointwise function through the SIMD kernel, with its derivative as a gradient kernel.
    func pointwise(_ f: Elementwise.Pointwise, derivative: Elementwise.Derivative) -> Tensor {
        var out = Tensor.outputStorage(count)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Elementwise.pointwise(f, px.baseAddress!, po.baseAddress!, count: po.count)
        } }
        return Tensor.result(shape, out, inputs: [self]) { [data] g in [g.gradient(derivative, x: data, y: out)] }
    }

    /// g · f′(x, y) through the gradient kernel (untracked).
    func gradient(_ f: Elementwise.Derivative, x: [Float], y: [Float]) -> Tensor {
        var d = Tensor.outputStorage(count)
        data.withUnsafeBufferPointer { pg in x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in
            d.withUnsafeMutableBufferPointer { pd in
                Elementwise.gradient(f, g: pg.baseAddress!, x: px.baseAddress!, y: py.baseAddress!, pd.baseAddress!, count: pd.count)
            }
        } } }
        return Tensor(shape: shape, data: d)
    }

    /// An activation through the SIMD kernel, with its derivative as a gradient kernel.
    func activation(_ f: Elementwise.Unary, derivative: Elementwise.Derivative) -> Tensor {
        var out = Tensor.outputStorage(count)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Elementwise.unary(f, px.baseAddress!, po.baseAddress!, count: po.count)
        } }
        return Tensor.result(shape, out, inputs: [self]) { [data] g in [g.gradient(derivative, x: data, y: out)] }
    }

    public func relu() -> Tensor { activation(.relu, derivative: .step(negativeSlope: 0)) }
    public func leakyReLU(_ slope: Float = 0.01) -> Tensor { activation(.leakyReLU(slope), derivative: .step(negativeSlope: slope)) }
    public func sigmoid() -> Tensor { activation(.sigmoid, derivative: .sigmoid) }
    public func tanh() -> Tensor { activation(.tanh, derivative: .tanh) }

    /// PReLU with one learned slope per channel (`slopes` [C]) on NCHW.
    public func prelu(_ slopes: Tensor) -> Tensor {
        let (n, c) = (shape[0], shape[1]), plane = count / (n * c)
        precondition(slopes.count == c, "prelu: \(slopes.count) slopes for \(c) channels")
        var out = Tensor.zeroedStorage(count)
        data.withUnsafeBufferPointer { px in slopes.data.withUnsafeBufferPointer { ps in out.withUnsafeMutableBufferPointer { po in
            Elementwise.prelu(px.baseAddress!, slopes: ps.baseAddress!, channels: c, plane: plane, planes: n * c, po.baseAddress!)
        } } }
        return Tensor.result(shape, out, inputs: [self, slopes]) { [data] g in
            var dx = Tensor.zeroedStorage(data.count), ds = [Double](repeating: 0, count: c)
            for p in 0..<(n * c) {
                let s = slopes.data[p % c]
                for i in (p * plane)..<((p + 1) * plane) {
                    if data[i] > 0 { dx[i] = g.data[i] } else { dx[i] = g.data[i] * s; ds[p % c] += Double(g.data[i] * data[i]) }
                }
            }
            return [Tensor(shape: g.shape, data: dx), Tensor(shape: slopes.shape, data: ds.map { Float($0) })]
        }
    }

    /// Softmax over the channel axis of NCHW.
    public func softmaxChannels() -> Tensor {
        let (n, c) = (shape[0], shape[1]), plane = count / (n * c)
        var out = Tensor.zeroedStorage(count)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Elementwise.softmaxChannels(px.baseAddress!, batch: n, channels: c, plane: plane, po.baseAddress!)
        } }
        return Tensor.result(shape, out, inputs: [self]) { g in
            var d = Tensor.zeroedStorage(out.count)
            out.withUnsafeBufferPointer { py in g.data.withUnsafeBufferPointer { pg in d.withUnsafeMutableBufferPointer { pd in
                Elementwise.softmaxChannelsBackward(py.baseAddress!, pg.baseAddress!, batch: n, channels: c, plane: plane, pd.baseAddress!)
            } } }
            return [Tensor(shape: g.shape, data: d)]
        }
    }

    /// Pads the two spatial axes of NCHW (zeros, replicate or reflect, as PyTorch's `F.pad`).
    public func padded(top: Int, bottom: Int, left: Int, right: Int, mode: PaddingMode = .zeros) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        var g = ConvGeometry(inChannels: c, outChannels: c, inHeight: h, inWidth: w, kernel: 1, padding: mode)
        g.padTop = top; g.padBottom = bottom; g.padLeft = left; g.padRight = right
        let oh = h + top + bottom, ow = w + left + right
        var map = [Int](repeating: -1, count: oh * ow)   // source offset within the plane, −1 for zero
        for y in 0..<oh { for x in 0..<ow {
            if let sy = g.source(y - top, h), let sx = g.source(x - left, w) { map[y * ow + x] = sy * w + sx }
        } }
        var out = Tensor.zeroedStorage(n * c * oh * ow)
        for p in 0..<(n * c) { for i in 0..<(oh * ow) where map[i] >= 0 { out[p * oh * ow + i] = data[p * h * w + map[i]] } }
        return Tensor.result([n, c, oh, ow], out, inputs: [self]) { [shape] gr in
            var d = Tensor.zeroedStorage(shape.reduce(1, *))
            for p in 0..<(n * c) { for i in 0..<(oh * ow) where map[i] >= 0 { d[p * h * w + map[i]] += gr.data[p * oh * ow + i] } }
            return [Tensor(shape: shape, data: d)]
        }
    }
    public func abs() -> Tensor { pointwise(.abs, derivative: .sign) }
    public func squared() -> Tensor { pointwise(.square, derivative: .twice) }
    public func sqrt() -> Tensor { pointwise(.sqrt, derivative: .halfReciprocal) }
    public func exp() -> Tensor { unary({ Foundation.exp($0) }, derivative: { _, y in y }) }

    /// Sum of all elements (a scalar).
    public func sum() -> Tensor {
        let s = data.withUnsafeBufferPointer { Elementwise.sum($0.baseAddress!, count: $0.count) }
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
