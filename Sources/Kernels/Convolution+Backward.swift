/// Gradients of the convolution, both through the same GEMM:
/// - input:  col[K × pixels] = Wᵀ · dY, then col2im adds each tap back onto the input sample it read
///   (through the padding rule, so replicate and reflect padding send their gradient to the edge samples);
/// - weights: dW[Cout × K] = Σ over images of dY · colᵀ, where colᵀ is gathered panel by panel (no buffer).
extension GEMM {
    /// Packs the transpose of row-major `a` (`depth` rows of `rows` columns, leading dimension `lda`) so that the
    /// GEMM computes with A[i][j] = a[j·lda + i].
    public static func packATransposed(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, depth k: Int,
                                       into dst: UnsafeMutablePointer<Float>) {
        let panels = (m + mr - 1) / mr
        for p in 0..<panels {
            let base = dst + p * mr * k
            for kk in 0..<k {
                let src = a + kk * lda + p * mr
                for r in 0..<mr { base[kk * mr + r] = p * mr + r < m ? src[r] : 0 }
            }
        }
    }
}

/// Rows = output pixels, columns = taps: the transposed implicit im2col of one image (and group).
struct ConvInputTransposedPanels: PanelSource {
    let input: UnsafePointer<Float>
    let g: ConvGeometry
    /// First output pixel of the rows this source serves (a block of the pixel range).
    var pixelOffset = 0

    func pack(k0 blockK0: Int, kc: Int, n0: Int, nr: Int, into dst: UnsafeMutablePointer<Float>) {
        let k0 = blockK0 + pixelOffset
        let ow = g.outWidth, kh = g.kernelHeight, kw = g.kernelWidth, plane = g.inHeight * g.inWidth
        // Pixels k0..<k0+kc in runs along output rows; each tap then reads a run from one input row.
        var runs: [(q0: Int, q1: Int, oy: Int, ox0: Int)] = []
        var q = 0
        while q < kc {
            let p = k0 + q, oy = p / ow, ox = p % ow, len = min(kc - q, ow - ox)
            runs.append((q, q + len, oy, ox)); q += len
        }
        let width = GEMM.nr
        for j in 0..<width {
            let d = dst + j
            guard j < nr else { for q in 0..<kc { d[q * width] = 0 }; continue }
            let t = n0 + j, c = t / (kh * kw), ky = (t / kw) % kh, kx = t % kw
            let channel = input + c * plane
            for run in runs {
                let iy = run.oy * g.strideY - g.padTop + ky * g.dilationY
                let ix0 = run.ox0 * g.strideX - g.padLeft + kx * g.dilationX
                guard let sy = g.source(iy, g.inHeight) else {
                    for q in run.q0..<run.q1 { d[q * width] = 0 }
                    continue
                }
                let row = channel + sy * g.inWidth, count = run.q1 - run.q0
                if g.strideX == 1 && ix0 >= 0 && ix0 + count <= g.inWidth {
                    for i in 0..<count { d[(run.q0 + i) * width] = row[ix0 + i] }
                } else {
                    for i in 0..<count { d[(run.q0 + i) * width] = g.source(ix0 + i * g.strideX, g.inWidth).map { row[$0] } ?? 0 }
                }
            }
        }
    }
}

extension Convolution {
    /// Pixels per block of the col buffer in `backwardInput` (bounds its memory to depth × 4096 floats).
    static let backwardBlock = 4096

    /// dX (overwritten) from dY and the weights [Cout][Cin/groups][kh][kw].
    public static func backwardInput(gradOutput dy: UnsafePointer<Float>, weights w: UnsafePointer<Float>, batch: Int,
                                     gradInput dx: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                                     pool: ThreadPool = .shared) {
        if let flipped = flippedGeometry(g) {
            // Stride 1 with zero padding: dX is a convolution of dY with the weights flipped in space and
            // transposed in channels, so it runs on the fast forward path without a col buffer.
            let kh = g.kernelHeight, kw = g.kernelWidth, ci = g.inPerGroup, co = g.outPerGroup
            var wt = [Float](repeating: 0, count: g.groups * ci * co * kh * kw)
            for group in 0..<g.groups { for o in 0..<co { for i in 0..<ci { for y in 0..<kh { for x in 0..<kw {
                let src = (((group * co + o) * ci + i) * kh + y) * kw + x
                let dst = (((group * ci + i) * co + o) * kh + (kh - 1 - y)) * kw + (kw - 1 - x)
                wt[dst] = w[src]
            } } } } }
            let packed = wt.withUnsafeBufferPointer { packWeights($0.baseAddress!, flipped) }
            packed.withUnsafeBufferPointer { pw in
                forward(input: dy, batch: batch, packedWeights: pw.baseAddress!, bias: nil, output: dx, geometry: flipped, pool: pool)
            }
            return
        }
        let depth = g.depth, m = g.outPerGroup
        let outPlane = g.outHeight * g.outWidth, inPlane = g.inHeight * g.inWidth
        var packed = [Float](repeating: 0, count: GEMM.packedASize(m: depth, k: m) * g.groups)
        let per = GEMM.packedASize(m: depth, k: m)
        packed.withUnsafeMutableBufferPointer { p in
            for group in 0..<g.groups {
                GEMM.packATransposed(w + group * m * depth, lda: depth, rows: depth, depth: m, into: p.baseAddress! + group * per)
            }
        }
        dx.update(repeating: 0, count: batch * g.inChannels * inPlane)
        let block = min(backwardBlock, outPlane)
        let col = UnsafeMutablePointer<Float>.allocate(capacity: depth * block)
        defer { col.deallocate() }
        let kh = g.kernelHeight, kw = g.kernelWidth, ow = g.outWidth
        packed.withUnsafeBufferPointer { pa in
            for n in 0..<batch {
                for group in 0..<g.groups {
                    let grad = dy + (n * g.outChannels + group * m) * outPlane
                    let target = dx + (n * g.inChannels + group * g.inPerGroup) * inPlane
                    var p0 = 0
                    while p0 < outPlane {
                        let cols = min(block, outPlane - p0)
                        GEMM.multiply(m: depth, n: cols, k: m, packedA: pa.baseAddress! + group * per,
                                      b: MatrixPanels(grad + p0, ldb: outPlane), c: col, ldc: cols, pool: pool)
                        // col2im: each input channel gathers its own taps, so channels run in parallel and
                        // every sum keeps one order.
                        let (colAddr, tAddr) = (Int(bitPattern: col), Int(bitPattern: target))
                        pool.parallelFor(g.inPerGroup) { c in
                            let col = UnsafePointer<Float>(bitPattern: colAddr)!
                            let plane = UnsafeMutablePointer<Float>(bitPattern: tAddr)! + c * inPlane
                            for ky in 0..<kh { for kx in 0..<kw {
                                let row = col + ((c * kh + ky) * kw + kx) * cols
                                // Walk the block's pixels a output row at a time.
                                var q = 0
                                while q < cols {
                                    let p = p0 + q, oy = p / ow, ox0 = p % ow, len = min(cols - q, ow - ox0)
                                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                                    if let sy = g.source(iy, g.inHeight) {
                                        let target = plane + sy * g.inWidth, src = row + q
                                        let ix0 = ox0 * g.strideX - g.padLeft + kx * g.dilationX
                                        let ixLast = ix0 + (len - 1) * g.strideX
                                        if ix0 >= 0 && ixLast < g.inWidth {
                                            var t = target + ix0
                                            for i in 0..<len { t.pointee += src[i]; t += g.strideX }
                                        } else {
                                            for i in 0..<len {
                                                if let sx = g.source(ix0 + i * g.strideX, g.inWidth) { target[sx] += src[i] }
                                            }
                                        }
                                    }
                                    q += len
                                }
                            } }
                        }
                        p0 += cols
                    }
                }
            }
        }
    }

    /// The geometry of dX = conv(dY, flipped W) when the convolution has stride 1 and zero padding.
    static func flippedGeometry(_ g: ConvGeometry) -> ConvGeometry? {
        guard g.strideX == 1 && g.strideY == 1 && g.padding == .zeros else { return nil }
        var f = g
        f.inChannels = g.outChannels; f.outChannels = g.inChannels
        f.inHeight = g.outHeight; f.inWidth = g.outWidth
        f.padTop = g.dilationY * (g.kernelHeight - 1) - g.padTop
        f.padBottom = g.dilationY * (g.kernelHeight - 1) - g.padBottom
        f.padLeft = g.dilationX * (g.kernelWidth - 1) - g.padLeft
        f.padRight = g.dilationX * (g.kernelWidth - 1) - g.padRight
        guard f.padTop >= 0, f.padBottom >= 0, f.padLeft >= 0, f.padRight >= 0,
              f.outHeight == g.inHeight, f.outWidth == g.inWidth else { return nil }
        return f
    }

    /// dW (overwritten) and dBias (overwritten, if given) from dY and the input.
    public static func backwardWeights(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int,
                                       gradWeights dw: UnsafeMutablePointer<Float>, gradBias db: UnsafeMutablePointer<Float>?,
                                       geometry g: ConvGeometry, pool: ThreadPool = .shared) {
        let outPlane = g.outHeight * g.outWidth
        if usesDirectWeightGradient(g) {
            backwardWeightsDirect(gradOutput: dy, input: x, batch: batch, gradWeights: dw, geometry: g, pool: pool)
        } else {
            backwardWeightsPacked(gradOutput: dy, input: x, batch: batch, gradWeights: dw, geometry: g, pool: pool)
        }
        if let db {
            let sums = UnsafeMutablePointer<Double>.allocate(capacity: batch * g.outChannels)
            defer { sums.deallocate() }
            Elementwise.planeSums(dy, plane: outPlane, planes: batch * g.outChannels, sums, pool: pool)
            for co in 0..<g.outChannels {
                var s = 0.0
                for n in 0..<batch { s += sums[n * g.outChannels + co] }
                db[co] = Float(s)
            }
        }
    }

    /// dW (overwritten) as a GEMM over transposed im2col panels of the input (any geometry).
    public static func backwardWeightsPacked(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int,
                                             gradWeights dw: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                                             pool: ThreadPool = .shared) {
        let depth = g.depth, m = g.outPerGroup
        let outPlane = g.outHeight * g.outWidth, inPlane = g.inHeight * g.inWidth
        // The pixel range is cut into blocks of a fixed size (not a function of the thread count); each block's
        // partial dW is computed on its own, and the partials are added in block order, so the result is the
        // same on any number of threads while the GEMM depth per task stays large.
        let block = max(256, (outPlane + 7) / 8)   // about 8 blocks, from the geometry alone
        let blocks = (outPlane + block - 1) / block
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: blocks * m * depth)
        defer { partials.deallocate() }
        let (dyA, xA, pA) = (Int(bitPattern: dy), Int(bitPattern: x), Int(bitPattern: partials))
        for n in 0..<batch {
            for group in 0..<g.groups {
                pool.parallelFor(blocks) { b in
                    let dy = UnsafePointer<Float>(bitPattern: dyA)!, x = UnsafePointer<Float>(bitPattern: xA)!
                    let p0 = b * block, count = min(block, outPlane - p0)
                    let packed = UnsafeMutablePointer<Float>.allocate(capacity: GEMM.packedASize(m: m, k: count))
                    defer { packed.deallocate() }
                    GEMM.packA(dy + (n * g.outChannels + group * m) * outPlane + p0, lda: outPlane, m: m, k: count, into: packed)
                    let source = ConvInputTransposedPanels(input: x + (n * g.inChannels + group * g.inPerGroup) * inPlane, g: g,
                                                           pixelOffset: p0)
                    GEMM.multiply(m: m, n: depth, k: count, packedA: packed, b: source,
                                  c: UnsafeMutablePointer<Float>(bitPattern: pA)! + b * m * depth, ldc: depth, pool: .serial)
                }
                let target = dw + group * m * depth
                for i in 0..<(m * depth) {
                    var sum = n > 0 ? target[i] : 0
                    for b in 0..<blocks { sum += partials[b * m * depth + i] }
                    target[i] = sum
                }
            }
        }
    }

    /// Narrow layers spend more time packing the transposed im2col panels than multiplying them, since a panel element
    /// feeds only 2·Cout flops; those sum dW straight from the rows. Since the rows' taps are grouped over the whole
    /// window, that path wins up to 64 output channels, the widest measured (`tween bench engine --filter dW3x3`,
    /// docs/ENGINE.md, "Kernel choices").
    static func usesDirectWeightGradient(_ g: ConvGeometry) -> Bool {
        g.strideX == 1 && g.strideY == 1 && g.dilationX == 1 && g.dilationY == 1 && g.groups == 1 && g.outChannels <= 64
            && g.outWidth >= 8
    }

    /// dW (overwritten) for stride 1: dW[o][c][ky][kx] = Σ_n,y,x dY[o][y][x] · in[c][y+ky−pt][x+kx−pl], one task per
    /// input channel (each sums in one fixed order, so any thread count gives the same bytes). Each input row that a
    /// kernel row reads is first copied with its padding (by the padding rule), so every tap reads a plain run; the
    /// sums then run 8 pixels at a time into per-lane partial sums, four output channels by three taps at once.
    public static func backwardWeightsDirect(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int,
                                             gradWeights dw: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                                             pool: ThreadPool = .shared) {
        let (m, cin, kh, kw) = (g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth)
        let taps = kh * kw, (oh, ow, ih, iw) = (g.outHeight, g.outWidth, g.inHeight, g.inWidth)
        let vectorEnd = ow / 8 * 8, padded = ow + kw - 1
        // Images one after another, all input channels of each in parallel, so one image's dY stays in cache while
        // every task reads it.
        let allLanes = UnsafeMutablePointer<Float>.allocate(capacity: cin * m * taps * 8)
        let allSingle = UnsafeMutablePointer<Float>.allocate(capacity: cin * m * taps)
        defer { allLanes.deallocate(); allSingle.deallocate() }
        allLanes.initialize(repeating: 0, count: cin * m * taps * 8); allSingle.initialize(repeating: 0, count: cin * m * taps)
        let (dyA, xA, lanesA, singleA) = (Int(bitPattern: dy), Int(bitPattern: x), Int(bitPattern: allLanes), Int(bitPattern: allSingle))
        for n in 0..<batch {
            pool.parallelFor(cin) { ci in
                let dy = UnsafePointer<Float>(bitPattern: dyA)!, x = UnsafePointer<Float>(bitPattern: xA)!
                let lanes = UnsafeMutablePointer<Float>(bitPattern: lanesA)! + ci * m * taps * 8
                let single = UnsafeMutablePointer<Float>(bitPattern: singleA)! + ci * m * taps
                // Every input row padded once (by the padding rule): rows[sy · padded + p + kx] is what output
                // pixel p reads at tap kx from input row sy.
                let rows = UnsafeMutablePointer<Float>.allocate(capacity: ih * padded)
                defer { rows.deallocate() }
                let plane = x + (n * cin + ci) * ih * iw, grad = dy + n * m * oh * ow
                let columns = (0..<padded).map { g.source($0 - g.padLeft, iw) ?? -1 }
                for sy in 0..<ih {
                    let source = plane + sy * iw, target = rows + sy * padded
                    for q in 0..<padded { target[q] = columns[q] >= 0 ? source[columns[q]] : 0 }
                }
                // A zero row stands in for rows outside a zero-padded input: its products add +0, which leaves
                // every partial sum (started at +0) as it was.
                let zeros = UnsafeMutablePointer<Float>.allocate(capacity: padded)
                zeros.initialize(repeating: 0, count: padded)
                defer { zeros.deallocate() }
                var reads = [UnsafePointer<Float>](repeating: UnsafePointer(zeros), count: taps)
                for oy in 0..<oh {
                    // reads[tap] + p: what output pixel p reads at that tap; taps are taken three at a time over the
                    // whole window (not per kernel row), so only one group of a 7×7 or 5×5 window is short.
                    for ky in 0..<kh {
                        let row = g.source(oy - g.padTop + ky, ih).map { UnsafePointer(rows + $0 * padded) } ?? UnsafePointer(zeros)
                        for kx in 0..<kw { reads[ky * kw + kx] = row + kx }
                    }
                    let dyRow = grad + oy * ow
                    var tap = 0
                    while tap + 3 <= taps {
                        let (r0, r1, r2) = (reads[tap], reads[tap + 1], reads[tap + 2])
                        var o = 0
                        while o + 4 <= m {
                            let d0 = dyRow + o * oh * ow, d1 = d0 + oh * ow, d2 = d1 + oh * ow, d3 = d2 + oh * ow
                            let l = lanes + (o * taps + tap) * 8, ls = taps * 8
                            var a00 = load8(l), a01 = load8(l + 8), a02 = load8(l + 16)
                            var a10 = load8(l + ls), a11 = load8(l + ls + 8), a12 = load8(l + ls + 16)
                            var a20 = load8(l + 2 * ls), a21 = load8(l + 2 * ls + 8), a22 = load8(l + 2 * ls + 16)
                            var a30 = load8(l + 3 * ls), a31 = load8(l + 3 * ls + 8), a32 = load8(l + 3 * ls + 16)
                            var p = 0
                            while p < vectorEnd {
                                let x0 = load8(r0 + p), x1 = load8(r1 + p), x2 = load8(r2 + p)
                                let g0 = load8(d0 + p), g1 = load8(d1 + p)
                                a00 = a00.addingProduct(g0, x0); a01 = a01.addingProduct(g0, x1); a02 = a02.addingProduct(g0, x2)
                                a10 = a10.addingProduct(g1, x0); a11 = a11.addingProduct(g1, x1); a12 = a12.addingProduct(g1, x2)
                                let g2 = load8(d2 + p), g3 = load8(d3 + p)
                                a20 = a20.addingProduct(g2, x0); a21 = a21.addingProduct(g2, x1); a22 = a22.addingProduct(g2, x2)
                                a30 = a30.addingProduct(g3, x0); a31 = a31.addingProduct(g3, x1); a32 = a32.addingProduct(g3, x2)
                                p += 8
                            }
                            store8(a00, l); store8(a01, l + 8); store8(a02, l + 16)
                            store8(a10, l + ls); store8(a11, l + ls + 8); store8(a12, l + ls + 16)
                            store8(a20, l + 2 * ls); store8(a21, l + 2 * ls + 8); store8(a22, l + 2 * ls + 16)
                            store8(a30, l + 3 * ls); store8(a31, l + 3 * ls + 8); store8(a32, l + 3 * ls + 16)
                            o += 4
                        }
                        while o < m {
                            let d0 = dyRow + o * oh * ow, l = lanes + (o * taps + tap) * 8
                            var a0 = load8(l), a1 = load8(l + 8), a2 = load8(l + 16), p = 0
                            while p < vectorEnd {
                                let g0 = load8(d0 + p)
                                a0 = a0.addingProduct(g0, load8(r0 + p)); a1 = a1.addingProduct(g0, load8(r1 + p)); a2 = a2.addingProduct(g0, load8(r2 + p))
                                p += 8
                            }
                            store8(a0, l); store8(a1, l + 8); store8(a2, l + 16)
                            o += 1
                        }
                        tap += 3
                    }
                    while tap < taps {
                        let r0 = reads[tap]
                        var o = 0
                        while o + 4 <= m {
                            let d0 = dyRow + o * oh * ow, d1 = d0 + oh * ow, d2 = d1 + oh * ow, d3 = d2 + oh * ow
                            let l = lanes + (o * taps + tap) * 8, ls = taps * 8
                            var a0 = load8(l), a1 = load8(l + ls), a2 = load8(l + 2 * ls), a3 = load8(l + 3 * ls), p = 0
                            while p < vectorEnd {
                                let x0 = load8(r0 + p)
                                a0 = a0.addingProduct(load8(d0 + p), x0); a1 = a1.addingProduct(load8(d1 + p), x0)
                                a2 = a2.addingProduct(load8(d2 + p), x0); a3 = a3.addingProduct(load8(d3 + p), x0)
                                p += 8
                            }
                            store8(a0, l); store8(a1, l + ls); store8(a2, l + 2 * ls); store8(a3, l + 3 * ls)
                            o += 4
                        }
                        while o < m {
                            let d0 = dyRow + o * oh * ow, l = lanes + (o * taps + tap) * 8
                            var a0 = load8(l), p = 0
                            while p < vectorEnd { a0 = a0.addingProduct(load8(d0 + p), load8(r0 + p)); p += 8 }
                            store8(a0, l)
                            o += 1
                        }
                        tap += 1
                    }
                    // The last ow mod 8 pixels of the row.
                    if vectorEnd < ow {
                        for ky in 0..<kh {
                            guard let sy = g.source(oy - g.padTop + ky, ih) else { continue }
                            let row = rows + sy * padded
                            for o in 0..<m {
                                let d0 = dyRow + o * oh * ow
                                for kx in 0..<kw {
                                    var s = single[o * taps + ky * kw + kx]
                                    for p in vectorEnd..<ow { s = s.addingProduct(d0[p], row[p + kx]) }
                                    single[o * taps + ky * kw + kx] = s
                                }
                            }
                        }
                    }
                }
            }
        }
        for ci in 0..<cin { for o in 0..<m { for tap in 0..<taps {
            let at = (ci * m + o) * taps + tap
            dw[(o * cin + ci) * taps + tap] = load8(allLanes + at * 8).sum() + allSingle[at]
        } } }
    }
}
