/// Bilinear and nearest resizing of NCHW planes with PyTorch's `interpolate` conventions, and their adjoints.
/// Each axis is described by a table (left index, right index, weight of the right one), computed once.
public enum Resize {
    public enum Mode: Sendable, Equatable { case bilinear(alignCorners: Bool), nearest }

    public struct Axis {
        public let i0: [Int], i1: [Int], w1: [Float]
    }

    public static func axis(input n: Int, output m: Int, mode: Mode) -> Axis {
        var i0 = [Int](repeating: 0, count: m), i1 = i0, w1 = [Float](repeating: 0, count: m)
        for d in 0..<m {
            switch mode {
            case .nearest:
                let s = min(Int(Float(d) * Float(n) / Float(m)), n - 1)
                i0[d] = s; i1[d] = s
            case .bilinear(let align):
                var src: Float
                if align { src = m > 1 ? Float(d) * Float(n - 1) / Float(m - 1) : 0 }
                else { src = max(0, (Float(d) + 0.5) * Float(n) / Float(m) - 0.5) }
                let f = min(Int(src), n - 1)
                i0[d] = f; i1[d] = min(f + 1, n - 1); w1[d] = src - Float(f)
            }
        }
        return Axis(i0: i0, i1: i1, w1: w1)
    }

    /// Resizes `planes` planes of h×w into oh×ow; with `base`, writes base + resized · scale instead (RIFE's
    /// flow refinement: the same operations as the three steps, in one pass).
    public static func forward(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, into y: UnsafeMutablePointer<Float>,
                               oh: Int, ow: Int, mode: Mode, scale: Float = 1, adding base: UnsafePointer<Float>? = nil,
                               pool: ThreadPool = .shared) {
        let ay = axis(input: h, output: oh, mode: mode), ax = axis(input: w, output: ow, mode: mode)
        let (xa, ya, ba) = (Int(bitPattern: x), Int(bitPattern: y), Int(bitPattern: base))
        pool.parallelFor(planes) { p in
            let src = UnsafePointer<Float>(bitPattern: xa)! + p * h * w
            let dst = UnsafeMutablePointer<Float>(bitPattern: ya)! + p * oh * ow
            let add = UnsafePointer<Float>(bitPattern: ba).map { $0 + p * oh * ow }
            ay.i0.withUnsafeBufferPointer { y0 in ay.i1.withUnsafeBufferPointer { y1 in ay.w1.withUnsafeBufferPointer { wy in
            ax.i0.withUnsafeBufferPointer { x0 in ax.i1.withUnsafeBufferPointer { x1 in ax.w1.withUnsafeBufferPointer { wx in
                for r in 0..<oh {
                    let top = src + y0[r] * w, bottom = src + y1[r] * w, b = wy[r], t = 1 - b
                    let out = dst + r * ow
                    if let add {
                        let addRow = add + r * ow
                        for c in 0..<ow {
                            let l = t * top[x0[c]] + b * bottom[x0[c]]
                            let rr = t * top[x1[c]] + b * bottom[x1[c]]
                            out[c] = addRow[c] + (l + wx[c] * (rr - l)) * scale
                        }
                        continue
                    }
                    for c in 0..<ow {
                        let l = t * top[x0[c]] + b * bottom[x0[c]]
                        let rr = t * top[x1[c]] + b * bottom[x1[c]]
                        out[c] = l + wx[c] * (rr - l)
                    }
                }
            } } } } } }
        }
    }

    /// One axis of a linear resampler as taps: output d = Σₜ weight[d·taps + t] · input[first[d] + t].
    public struct Taps {
        public let first: [Int], taps: Int, weight: [Float]
    }

    /// The taps of resizing n → k → m along one axis (two bilinear or nearest steps composed), computed in double
    /// precision from the same per-step weights as `axis`.
    public static func composedTaps(input n: Int, via k: Int, output m: Int, mode: Mode) -> Taps {
        let a = axis(input: n, output: k, mode: mode), b = axis(input: k, output: m, mode: mode)
        var rows: [[Int: Double]] = []
        for d in 0..<m {
            var row: [Int: Double] = [:]
            for (mid, wm) in [(b.i0[d], 1 - Double(b.w1[d])), (b.i1[d], Double(b.w1[d]))] {
                row[a.i0[mid], default: 0] += wm * (1 - Double(a.w1[mid]))
                row[a.i1[mid], default: 0] += wm * Double(a.w1[mid])
            }
            rows.append(row)
        }
        let taps = min(n, rows.map { $0.keys.max()! - $0.keys.min()! + 1 }.max() ?? 1)
        var first = [Int](repeating: 0, count: m), weight = [Float](repeating: 0, count: m * taps)
        for (d, row) in rows.enumerated() {
            first[d] = min(row.keys.min()!, n - taps)
            for (i, v) in row { weight[d * taps + i - first[d]] = Float(v) }
        }
        return Taps(first: first, taps: taps, weight: weight)
    }

    /// Resizes `planes` planes of h×w into oh×ow as if through an intermediate size vh×vw (resize to it, then
    /// from it) in one separable pass, without the intermediate: how RIFE v4's blocks hand their low-resolution
    /// outputs to the next block, which the reference upsamples to full resolution and downsamples again.
    /// Equal to the two resizes up to rounding (the composed weights are exact, the two steps round twice).
    public static func forward(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, into y: UnsafeMutablePointer<Float>,
                               oh: Int, ow: Int, via vh: Int, _ vw: Int, mode: Mode, pool: ThreadPool = .shared) {
        let ty = composedTaps(input: h, via: vh, output: oh, mode: mode), tx = composedTaps(input: w, via: vw, output: ow, mode: mode)
        let (xa, ya) = (Int(bitPattern: x), Int(bitPattern: y))
        pool.parallelFor(planes) { p in
            let src = UnsafePointer<Float>(bitPattern: xa)! + p * h * w
            let dst = UnsafeMutablePointer<Float>(bitPattern: ya)! + p * oh * ow
            withUnsafeTemporaryAllocation(of: Float.self, capacity: w) { rowBuffer in
                let row = rowBuffer.baseAddress!
                for r in 0..<oh {
                    // Vertical taps into one input-width row, then horizontal taps from it.
                    row.update(repeating: 0, count: w)
                    for t in 0..<ty.taps {
                        let wt = ty.weight[r * ty.taps + t], line = src + (ty.first[r] + t) * w
                        if wt != 0 { for j in 0..<w { row[j] += wt * line[j] } }
                    }
                    let out = dst + r * ow
                    for c in 0..<ow {
                        var v: Float = 0
                        for t in 0..<tx.taps { v += tx.weight[c * tx.taps + t] * row[tx.first[c] + t] }
                        out[c] = v
                    }
                }
            }
        }
    }

    /// The adjoint: adds each output gradient back onto the input samples it was made from (dx overwritten).
    public static func backward(_ dy: UnsafePointer<Float>, planes: Int, oh: Int, ow: Int, into dx: UnsafeMutablePointer<Float>,
                                h: Int, w: Int, mode: Mode, pool: ThreadPool = .shared) {
        let ay = axis(input: h, output: oh, mode: mode), ax = axis(input: w, output: ow, mode: mode)
        let (ga, da) = (Int(bitPattern: dy), Int(bitPattern: dx))
        pool.parallelFor(planes) { p in
            let g = UnsafePointer<Float>(bitPattern: ga)! + p * oh * ow
            let d = UnsafeMutablePointer<Float>(bitPattern: da)! + p * h * w
            d.update(repeating: 0, count: h * w)
            for r in 0..<oh {
                let b = ay.w1[r], t = 1 - b
                let top = d + ay.i0[r] * w, bottom = d + ay.i1[r] * w
                for c in 0..<ow {
                    let v = g[r * ow + c], wr = ax.w1[c], wl = 1 - wr
                    top[ax.i0[c]] += t * wl * v; top[ax.i1[c]] += t * wr * v
                    bottom[ax.i0[c]] += b * wl * v; bottom[ax.i1[c]] += b * wr * v
                }
            }
        }
    }
}

/// Average and max pooling (square windows, no padding), and pixel shuffle.
public enum Pooling {
    public static func average(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, kernel k: Int, stride s: Int,
                               into y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let oh = (h - k) / s + 1, ow = (w - k) / s + 1, scale = 1 / Float(k * k)
        let (xa, ya) = (Int(bitPattern: x), Int(bitPattern: y))
        pool.parallelFor(planes) { p in
            let x = UnsafePointer<Float>(bitPattern: xa)!, y = UnsafeMutablePointer<Float>(bitPattern: ya)!
            let src = x + p * h * w, dst = y + p * oh * ow
            for r in 0..<oh { for c in 0..<ow {
                var sum: Float = 0
                for i in 0..<k { for j in 0..<k { sum += src[(r * s + i) * w + c * s + j] } }
                dst[r * ow + c] = sum * scale
            } }
        }
    }

    /// Max pooling; `argmax` receives the input offset (within its plane) of each maximum, for the backward pass.
    public static func max(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, kernel k: Int, stride s: Int,
                           into y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let oh = (h - k) / s + 1, ow = (w - k) / s + 1
        for p in 0..<planes {
            let src = x + p * h * w, dst = y + p * oh * ow, arg = argmax + p * oh * ow
            for r in 0..<oh { for c in 0..<ow {
                var best = -Float.infinity, at = 0
                for i in 0..<k { for j in 0..<k {
                    let o = (r * s + i) * w + c * s + j
                    if src[o] > best || (src[o].isNaN && !best.isNaN) { best = src[o]; at = o }
                } }
                dst[r * ow + c] = best; arg[r * ow + c] = Int32(at)
            } }
        }
    }
}
