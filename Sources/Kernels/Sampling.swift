/// Bilinear sampling of NCHW planes at arbitrary pixel positions (backward warping), with PyTorch `grid_sample`
/// semantics for the two padding modes, and its adjoints with respect to the input and to the positions.
/// Positions are in pixels (x right, y down, sample centres at integers); `grid_sample`'s normalised grid is
/// converted to this by the caller.
public enum Sampling {
    public enum Padding: Sendable, Equatable { case zeros, border }

    @inline(__always)
    static func corners(_ px: Float, _ py: Float, w: Int, h: Int, padding: Padding)
        -> (x0: Int, y0: Int, fx: Float, fy: Float, gx: Float, gy: Float) {
        var x = px, y = py, gx: Float = 1, gy: Float = 1
        if padding == .border {
            // Clamped coordinates carry no gradient where clamped (as PyTorch).
            if x <= 0 { x = 0; gx = 0 } else if x >= Float(w - 1) { x = Float(w - 1); gx = 0 }
            if y <= 0 { y = 0; gy = 0 } else if y >= Float(h - 1) { y = Float(h - 1); gy = 0 }
        }
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        return (x0, y0, x - Float(x0), y - Float(y0), gx, gy)
    }

    /// out[n][c][p] = input[n][c] sampled at (xs[n][p], ys[n][p]).
    public static func forward(_ x: UnsafePointer<Float>, batch: Int, channels: Int, h: Int, w: Int,
                               xs: UnsafePointer<Float>, ys: UnsafePointer<Float>, points: Int, padding: Padding,
                               into y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (xa, ya, pxa, pya) = (Int(bitPattern: x), Int(bitPattern: y), Int(bitPattern: xs), Int(bitPattern: ys))
        // Bands of points, so that even three planes split evenly over the threads.
        let bands = max(1, min(points / 4096, 16)), per = (points + bands - 1) / bands
        pool.parallelFor(batch * channels * bands) { task in
            let plane = task / bands, band = task % bands
            let n = plane / channels
            let src = UnsafePointer<Float>(bitPattern: xa)! + plane * h * w
            let dst = UnsafeMutablePointer<Float>(bitPattern: ya)! + plane * points
            let px = UnsafePointer<Float>(bitPattern: pxa)! + n * points, py = UnsafePointer<Float>(bitPattern: pya)! + n * points
            for p in (band * per)..<min(points, (band + 1) * per) {
                let c = corners(px[p], py[p], w: w, h: h, padding: padding)
                if c.x0 >= 0 && c.x0 + 1 < w && c.y0 >= 0 && c.y0 + 1 < h {
                    // All four neighbours inside: no bounds checks.
                    let r0 = src + c.y0 * w + c.x0, r1 = r0 + w
                    let top = r0[0] + c.fx * (r0[1] - r0[0]), bottom = r1[0] + c.fx * (r1[1] - r1[0])
                    dst[p] = top + c.fy * (bottom - top)
                    continue
                }
                @inline(__always) func at(_ yy: Int, _ xx: Int) -> Float {
                    (xx >= 0 && xx < w && yy >= 0 && yy < h) ? src[yy * w + xx] : 0
                }
                let top = at(c.y0, c.x0) + c.fx * (at(c.y0, c.x0 + 1) - at(c.y0, c.x0))
                let bottom = at(c.y0 + 1, c.x0) + c.fx * (at(c.y0 + 1, c.x0 + 1) - at(c.y0 + 1, c.x0))
                dst[p] = top + c.fy * (bottom - top)
            }
        }
    }

    /// Backward warping: out[n][c][y][x] = input[n][c] sampled at (x + flow[n][0][y][x], y + flow[n][1][y][x]).
    /// `flowBatchStride` (default 2·h·w) lets the two flow planes be part of a larger tensor.
    /// The same arithmetic as `forward` at those positions, but each point's corners and weights are found once
    /// for all channels, eight points at a time where they lie inside, and rows split over the threads.
    public static func warp(_ x: UnsafePointer<Float>, batch: Int, channels: Int, h: Int, w: Int,
                            flow: UnsafePointer<Float>, flowBatchStride: Int? = nil, padding: Padding,
                            into y: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        warp([x], channels: [channels], batch: batch, h: h, w: w, flow: flow, flowBatchStride: flowBatchStride,
             padding: padding, into: [y], pool: pool)
    }

    /// `warp` of several tensors by one flow ([batch][channels[i]][h][w] each, into outputs[i]): the corners and
    /// weights of each point serve all of them (an image and its features, in RIFE v4).
    public static func warp(_ sources: [UnsafePointer<Float>], channels: [Int], batch: Int, h: Int, w: Int,
                            flow: UnsafePointer<Float>, flowBatchStride: Int? = nil, padding: Padding,
                            into outputs: [UnsafeMutablePointer<Float>], pool: ThreadPool = .shared) {
        precondition(sources.count == channels.count && outputs.count == channels.count)
        let sourceAddresses = sources.map { Int(bitPattern: $0) }, outputAddresses = outputs.map { Int(bitPattern: $0) }
        let fa = Int(bitPattern: flow)
        let plane = h * w, flowStride = flowBatchStride ?? 2 * plane
        let parts = channels.count
        pool.parallelFor(batch * h) { task in
            let n = task / h, row = task % h
            let fx = UnsafePointer<Float>(bitPattern: fa)! + n * flowStride + row * w, fy = fx + plane
            // Plane-by-plane source and output of this row: the parts' channels one after another.
            let planes = channels.reduce(0, +)
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: planes) { srcPlanes in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: planes) { dstPlanes in
                var i = 0
                for part in 0..<parts {
                    let c = channels[part]
                    let src = UnsafePointer<Float>(bitPattern: sourceAddresses[part])! + n * c * plane
                    let dst = UnsafeMutablePointer<Float>(bitPattern: outputAddresses[part])! + n * c * plane + row * w
                    for ch in 0..<c { srcPlanes[i] = src + ch * plane; dstPlanes[i] = dst + ch * plane; i += 1 }
                }
                warpRow(srcPlanes.baseAddress!, dstPlanes.baseAddress!, fx, fy, row: row, w: w, h: h, channels: planes,
                        padding: padding)
            } }
        }
    }

    /// One row of `warp`: channel c read from the plane at src[c] and written to the row at dst[c].
    @inline(__always)
    static func warpRow(_ src: UnsafePointer<UnsafePointer<Float>>, _ dst: UnsafePointer<UnsafeMutablePointer<Float>>,
                        _ fx: UnsafePointer<Float>, _ fy: UnsafePointer<Float>, row: Int, w: Int, h: Int, channels: Int,
                        padding: Padding) {
            var col = 0
            // Eight points at a time: positions, corners and weights as vectors (the same operations as
            // `corners`), the four neighbours gathered lane by lane, the blend as vectors.
            let lanes = Vec8(0, 1, 2, 3, 4, 5, 6, 7), lastX = Float(w - 1), lastY = Float(h - 1)
            while col + 8 <= w {
                var px = Vec8(repeating: Float(col)) + lanes + load8(fx + col)
                var py = Vec8(repeating: Float(row)) + load8(fy + col)
                if padding == .border {
                    px = px.replacing(with: 0, where: px .<= 0).replacing(with: lastX, where: px .>= lastX)
                    py = py.replacing(with: 0, where: py .<= 0).replacing(with: lastY, where: py .>= lastY)
                }
                let fx0 = px.rounded(.down), fy0 = py.rounded(.down)
                let wx = px - fx0, wy = py - fy0
                // Inside when 0 ≤ x0 and x0 + 1 < w (and likewise in y), for every lane; else point by point.
                guard all(fx0 .>= 0) && all(fx0 .< lastX) && all(fy0 .>= 0) && all(fy0 .< lastY) else {
                    for point in col..<(col + 8) { warpPoint(src, dst, fx, fy, row: row, col: point, w: w, h: h,
                                                             channels: channels, padding: padding) }
                    col += 8; continue
                }
                var offsets = SIMD8<Int>()   // lane by lane: the generic vector conversion is slow
                for j in 0..<8 { offsets[j] = Int(fy0[j]) * w + Int(fx0[j]) }
                // Where the flow is smooth, the eight corners are often consecutive pixels of one row: then the
                // neighbours are four plain vector loads (the same values, so the same bytes).
                if offsets == SIMD8<Int>(repeating: offsets[0]) &+ SIMD8<Int>(0, 1, 2, 3, 4, 5, 6, 7) {
                    for c in 0..<channels {
                        let p = src[c] + offsets[0]
                        let v00 = load8(p), v01 = load8(p + 1), v10 = load8(p + w), v11 = load8(p + w + 1)
                        let top = v00 + wx * (v01 - v00), bottom = v10 + wx * (v11 - v10)
                        store8(top + wy * (bottom - top), dst[c] + col)
                    }
                    col += 8; continue
                }
                let below = 4 * w   // bytes from a corner to the one under it
                for c in 0..<channels {
                    // Each pair of horizontal neighbours is one 8-byte load; even and odd lanes split them.
                    var upper = SIMD8<UInt64>(), lower = SIMD8<UInt64>()
                    let s = src[c]
                    for j in 0..<8 {
                        let p = UnsafeRawPointer(s + offsets[j])
                        upper[j] = p.loadUnaligned(as: UInt64.self); lower[j] = (p + below).loadUnaligned(as: UInt64.self)
                    }
                    let u = unsafeBitCast(upper, to: SIMD16<Float>.self), l = unsafeBitCast(lower, to: SIMD16<Float>.self)
                    let v00 = u.evenHalf, v01 = u.oddHalf, v10 = l.evenHalf, v11 = l.oddHalf
                    let top = v00 + wx * (v01 - v00), bottom = v10 + wx * (v11 - v10)
                    store8(top + wy * (bottom - top), dst[c] + col)
                }
                col += 8
            }
            while col < w {
                warpPoint(src, dst, fx, fy, row: row, col: col, w: w, h: h, channels: channels, padding: padding)
                col += 1
            }
    }

    /// One point of `warp`, all channels (planes as in `warpRow`).
    @inline(__always)
    static func warpPoint(_ src: UnsafePointer<UnsafePointer<Float>>, _ dst: UnsafePointer<UnsafeMutablePointer<Float>>,
                          _ fx: UnsafePointer<Float>, _ fy: UnsafePointer<Float>, row: Int, col: Int, w: Int, h: Int,
                          channels: Int, padding: Padding) {
        let c = corners(Float(col) + fx[col], Float(row) + fy[col], w: w, h: h, padding: padding)
        if c.x0 >= 0 && c.x0 + 1 < w && c.y0 >= 0 && c.y0 + 1 < h {
            for ch in 0..<channels {
                let r0 = src[ch] + c.y0 * w + c.x0, r1 = r0 + w
                let top = r0[0] + c.fx * (r0[1] - r0[0]), bottom = r1[0] + c.fx * (r1[1] - r1[0])
                dst[ch][col] = top + c.fy * (bottom - top)
            }
            return
        }
        for ch in 0..<channels {
            let s = src[ch]
            @inline(__always) func at(_ yy: Int, _ xx: Int) -> Float {
                (xx >= 0 && xx < w && yy >= 0 && yy < h) ? s[yy * w + xx] : 0
            }
            let top = at(c.y0, c.x0) + c.fx * (at(c.y0, c.x0 + 1) - at(c.y0, c.x0))
            let bottom = at(c.y0 + 1, c.x0) + c.fx * (at(c.y0 + 1, c.x0 + 1) - at(c.y0 + 1, c.x0))
            dst[ch][col] = top + c.fy * (bottom - top)
        }
    }

    /// dx (overwritten) and the gradient with respect to the positions (dxs, dys overwritten).
    public static func backward(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, channels: Int,
                                h: Int, w: Int, xs: UnsafePointer<Float>, ys: UnsafePointer<Float>, points: Int,
                                padding: Padding, gradInput dx: UnsafeMutablePointer<Float>?,
                                gradX dxs: UnsafeMutablePointer<Float>?, gradY dys: UnsafeMutablePointer<Float>?,
                                pool: ThreadPool = .shared) {
        let (ga, xa, da, pxa, pya) = (Int(bitPattern: dy), Int(bitPattern: x), Int(bitPattern: dx),
                                      Int(bitPattern: xs), Int(bitPattern: ys))
        if dx != nil {
            pool.parallelFor(batch * channels) { plane in
                let n = plane / channels
                let g = UnsafePointer<Float>(bitPattern: ga)! + plane * points
                let d = UnsafeMutablePointer<Float>(bitPattern: da)! + plane * h * w
                let px = UnsafePointer<Float>(bitPattern: pxa)! + n * points, py = UnsafePointer<Float>(bitPattern: pya)! + n * points
                d.update(repeating: 0, count: h * w)
                for p in 0..<points {
                    let c = corners(px[p], py[p], w: w, h: h, padding: padding), v = g[p]
                    @inline(__always) func add(_ yy: Int, _ xx: Int, _ wt: Float) {
                        if xx >= 0 && xx < w && yy >= 0 && yy < h { d[yy * w + xx] += wt * v }
                    }
                    add(c.y0, c.x0, (1 - c.fx) * (1 - c.fy)); add(c.y0, c.x0 + 1, c.fx * (1 - c.fy))
                    add(c.y0 + 1, c.x0, (1 - c.fx) * c.fy); add(c.y0 + 1, c.x0 + 1, c.fx * c.fy)
                }
            }
        }
        guard let dxs, let dys else { return }
        let (gxa, gya) = (Int(bitPattern: dxs), Int(bitPattern: dys))
        // Bands of points per image, so one image still splits over the threads.
        let bands = max(1, min(points / 4096, 16)), per = (points + bands - 1) / bands
        pool.parallelFor(batch * bands) { task in
            let n = task / bands, band = task % bands
            let px = UnsafePointer<Float>(bitPattern: pxa)! + n * points, py = UnsafePointer<Float>(bitPattern: pya)! + n * points
            let ox = UnsafeMutablePointer<Float>(bitPattern: gxa)! + n * points, oy = UnsafeMutablePointer<Float>(bitPattern: gya)! + n * points
            for p in (band * per)..<min(points, (band + 1) * per) {
                let c = corners(px[p], py[p], w: w, h: h, padding: padding)
                var sx: Float = 0, sy: Float = 0
                for ch in 0..<channels {
                    let plane = n * channels + ch
                    let src = UnsafePointer<Float>(bitPattern: xa)! + plane * h * w
                    let g = (UnsafePointer<Float>(bitPattern: ga)! + plane * points)[p]
                    @inline(__always) func at(_ yy: Int, _ xx: Int) -> Float {
                        (xx >= 0 && xx < w && yy >= 0 && yy < h) ? src[yy * w + xx] : 0
                    }
                    let v00 = at(c.y0, c.x0), v01 = at(c.y0, c.x0 + 1), v10 = at(c.y0 + 1, c.x0), v11 = at(c.y0 + 1, c.x0 + 1)
                    sx += g * ((1 - c.fy) * (v01 - v00) + c.fy * (v11 - v10))
                    sy += g * ((1 - c.fx) * (v10 - v00) + c.fx * (v11 - v01))
                }
                ox[p] = sx * c.gx; oy[p] = sy * c.gy
            }
        }
    }
}
