import Foundation
/// Winograd F(4×4, 3×3) for stride-1 3×3 convolutions (Lavin & Gray 2016): each 6×6 input tile and 3×3 filter
/// are transformed so that a 4×4 output tile costs 36 multiplies per channel pair instead of 144. The 36
/// transform positions become 36 independent GEMMs (Cout × Cin times Cin × tiles) on the packed GEMM. The input
/// transform writes straight into the GEMM's packed B panels, so the GEMM reads them without a copy.
extension Convolution {
    /// Whether `forward` takes the Winograd path: 3×3, stride 1, no dilation, and enough channels and tiles to
    /// amortise the transforms; the thresholds come from `tween bench engine` against TWEEN_WINOGRAD=0 and from
    /// RIFE v4.25's 32-channel blocks at 720p (docs/ENGINE.md, "Kernel choices").
    public static func usesWinograd(_ g: ConvGeometry) -> Bool {
        winogradEnabled && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideX == 1 && g.strideY == 1
            && g.dilationX == 1 && g.dilationY == 1 && g.inPerGroup >= minimumWinogradChannels
            && g.outPerGroup >= minimumWinogradChannels && ((g.outHeight + 3) / 4) * ((g.outWidth + 3) / 4) >= minimumWinogradTiles
    }
    /// Lowered by the tests to exercise the path on small inputs.
    nonisolated(unsafe) static var minimumWinogradChannels = 32
    nonisolated(unsafe) static var minimumWinogradTiles = 256
    /// TWEEN_WINOGRAD=0 turns the path off (for comparisons).
    nonisolated(unsafe) public static var winogradEnabled = ProcessInfo.processInfo.environment["TWEEN_WINOGRAD"] != "0"

    /// U = G g Gᵀ for every (cout, cin) of one group, stored [36][Cout][Cin] and packed per position for the GEMM.
    /// The same weights give the same U, so it is kept (`TransformedWeights`) across calls.
    static func winogradWeights(_ w: UnsafePointer<Float>, _ g: ConvGeometry, group: Int) -> [Float] {
        let co = g.outPerGroup, ci = g.inPerGroup
        let groupWeights = w + group * co * ci * 9
        return TransformedWeights.shared.value(for: groupWeights, count: co * ci * 9, kind: "winograd4x4 \(co)×\(ci)") {
            transformWinogradWeights(groupWeights, outChannels: co, inChannels: ci)
        }
    }

    static func transformWinogradWeights(_ w: UnsafePointer<Float>, outChannels co: Int, inChannels ci: Int) -> [Float] {
        var u = [Float](repeating: 0, count: 36 * co * ci)
        // G (6×3) = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1], applied in double precision.
        @inline(__always) func gTimes(_ a: Double, _ b: Double, _ c: Double) -> (Double, Double, Double, Double, Double, Double) {
            (a / 4, -(a + b + c) / 6, -(a - b + c) / 6, a / 24 + b / 12 + c / 6, a / 24 - b / 12 + c / 6, c)
        }
        u.withUnsafeMutableBufferPointer { pu in
            let u = pu.baseAddress!
            for o in 0..<co { for i in 0..<ci {
                let k = w + (o * ci + i) * 9
                // G·g by column, then G applied to each of its six rows.
                let c0 = gTimes(Double(k[0]), Double(k[3]), Double(k[6]))
                let c1 = gTimes(Double(k[1]), Double(k[4]), Double(k[7]))
                let c2 = gTimes(Double(k[2]), Double(k[5]), Double(k[8]))
                @inline(__always) func row(_ r: Int, _ a: Double, _ b: Double, _ c: Double) {
                    let e = gTimes(a, b, c)
                    let base = u + (r * 6 * co + o) * ci + i, step = co * ci
                    base[0] = Float(e.0); base[step] = Float(e.1); base[2 * step] = Float(e.2)
                    base[3 * step] = Float(e.3); base[4 * step] = Float(e.4); base[5 * step] = Float(e.5)
                }
                row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
                row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
            } }
        }
        let per = GEMM.packedASize(m: co, k: ci)
        var packed = [Float](repeating: 0, count: 36 * per)
        u.withUnsafeBufferPointer { pu in packed.withUnsafeMutableBufferPointer { pp in
            for xi in 0..<36 { GEMM.packA(pu.baseAddress! + xi * co * ci, lda: ci, m: co, k: ci, into: pp.baseAddress! + xi * per) }
        } }
        return packed
    }

    /// Bᵀ·d for one column of six (each lane a different tile).
    @inline(__always)
    static func inputTransform(_ d0: Vec8, _ d1: Vec8, _ d2: Vec8, _ d3: Vec8, _ d4: Vec8, _ d5: Vec8)
        -> (Vec8, Vec8, Vec8, Vec8, Vec8, Vec8) {
        // Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
        let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, a + b, a - b, c + e, c - e, 4 * d1 - 5 * d3 + d5)
    }

    /// Aᵀ·m for one column of six.
    @inline(__always)
    static func outputTransform(_ m0: Vec8, _ m1: Vec8, _ m2: Vec8, _ m3: Vec8, _ m4: Vec8, _ m5: Vec8)
        -> (Vec8, Vec8, Vec8, Vec8) {
        // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        return (m0 + s12 + s34, d12 + 2 * d34, s12 + 4 * s34, d12 + 8 * d34 + m5)
    }

    /// Tiles per block: the unit of work of one thread, transformed, multiplied and transformed back while its
    /// V and M (36 · channels · tiles floats each) stay in the core's L2.
    static var winogradBlockTiles: Int { GEMM.nr }

    static func forwardWinograd(input x: UnsafePointer<Float>, batch: Int, weights w: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                                activation: Activation, pool: ThreadPool) {
        let co = g.outPerGroup, ci = g.inPerGroup, oh = g.outHeight, ow = g.outWidth, ih = g.inHeight, iw = g.inWidth
        let th = (oh + 3) / 4, tw = (ow + 3) / 4, tiles = th * tw
        let nr = GEMM.nr, blockTiles = winogradBlockTiles, blocks = (tiles + blockTiles - 1) / blockTiles
        let per = GEMM.packedASize(m: co, k: ci)
        // A few chunks per thread, each a run of blocks sharing one scratch allocation.
        let blocksPerChunk = max(1, blocks / (pool.threads * 4)), chunks = (blocks + blocksPerChunk - 1) / blocksPerChunk
        for group in 0..<g.groups {
            let u = winogradWeights(w, g, group: group)
            u.withUnsafeBufferPointer { pu in
            let uAddress = Int(bitPattern: pu.baseAddress!)
            for n in 0..<batch {
                let (xA, yA) = (Int(bitPattern: x + (n * g.inChannels + group * ci) * ih * iw),
                                Int(bitPattern: y + (n * g.outChannels + group * co) * oh * ow))
                pool.parallelFor(chunks) { chunk in
                    let image = UnsafePointer<Float>(bitPattern: xA)!, out = UnsafeMutablePointer<Float>(bitPattern: yA)!
                    let u = UnsafePointer<Float>(bitPattern: uAddress)!
                    // V: B panels [36][panel][Cin][nr]; M: [36][Cout][blockTiles]; a 6-sample column for border
                    // tiles; then vectors: Bᵀ·d and the samples (72), or Aᵀ·M and the outputs (40); the GEMM's 4 × nr output tile.
                    let vCount = 36 * ci * blockTiles, mCount = 36 * co * blockTiles, floats = vCount + mCount + 16 + 72 * 8 + 4 * nr
                    let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
                    defer { raw.deallocate() }
                    let v = raw.bindMemory(to: Float.self, capacity: floats)
                    let m = v + vCount, patch = m + mCount, tile = patch + 16 + 72 * 8
                    let vectors = UnsafeMutableRawPointer(patch + 16).bindMemory(to: Vec8.self, capacity: 72)
                    for block in (chunk * blocksPerChunk)..<min(blocks, (chunk + 1) * blocksPerChunk) {
                        let t0 = block * blockTiles, count = min(blockTiles, tiles - t0)
                        winogradInput(image, g, tilesAcross: tw, firstTile: t0, count: count, blockTiles: blockTiles,
                                      into: v, patch: patch, rows: vectors)
                        // M_ξ = U_ξ · V_ξ for the 36 positions.
                        for xi in 0..<36 {
                            for p in 0..<(count + nr - 1) / nr {
                                GEMM.multiplyPanel(m: co, kc: ci, packedA: u + xi * per, lda: ci,
                                                   panel: v + (xi * blockTiles + p * nr) * ci, tile: tile,
                                                   c: m + xi * co * blockTiles + p * nr, ldc: blockTiles,
                                                   cols: min(nr, count - p * nr), accumulate: false, bias: nil, activation: .none)
                            }
                        }
                        winogradOutput(m, g, tilesAcross: tw, firstTile: t0, count: count, blockTiles: blockTiles,
                                       bias: bias.map { $0 + group * co }, activation: activation.from(group * co), into: out,
                                       scratch: vectors)
                    }
                }
            }
            }
        }
    }

    /// V = Bᵀ d B for the tiles of one block, eight at a time (8 divides the panel width, so a group never
    /// straddles panels), written as packed GEMM panels [36][panel][Cin][nr]. Tiles inside the image read it in
    /// place; border tiles gather their columns through the padding mode.
    @inline(__always)
    static func winogradInput(_ image: UnsafePointer<Float>, _ g: ConvGeometry, tilesAcross tw: Int, firstTile t0: Int,
                              count: Int, blockTiles: Int, into v: UnsafeMutablePointer<Float>,
                              patch: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Vec8>) {
        let ci = g.inPerGroup, ih = g.inHeight, iw = g.inWidth, nr = GEMM.nr, plane = ih * iw
        let position = ci * blockTiles
        for c in 0..<ci {
            let channel = image + c * plane
            for j0 in stride(from: 0, to: count, by: 8) {
                let first = t0 + j0, iy = 4 * (first / tw) - g.padTop, ix0 = 4 * (first % tw) - g.padLeft
                if count - j0 >= 8 && first % tw + 8 <= tw && iy >= 0 && iy + 6 <= ih && ix0 >= 0 && ix0 + 34 <= iw {
                    // Eight tiles side by side, all inside: each of the six input rows is 34 contiguous samples,
                    // de-interleaved into the six column vectors (tile j's column q is sample 4j + q).
                    let samples = rows + 36
                    for rr in 0..<6 {
                        let p = channel + (iy + rr) * iw + ix0
                        let a = load8(p), b = load8(p + 8), c = load8(p + 16), d = load8(p + 24), e = p[32], f = p[33]
                        samples[rr * 6] = Vec8(a[0], a[4], b[0], b[4], c[0], c[4], d[0], d[4])
                        samples[rr * 6 + 1] = Vec8(a[1], a[5], b[1], b[5], c[1], c[5], d[1], d[5])
                        samples[rr * 6 + 2] = Vec8(a[2], a[6], b[2], b[6], c[2], c[6], d[2], d[6])
                        samples[rr * 6 + 3] = Vec8(a[3], a[7], b[3], b[7], c[3], c[7], d[3], d[7])
                        samples[rr * 6 + 4] = Vec8(a[4], b[0], b[4], c[0], c[4], d[0], d[4], e)
                        samples[rr * 6 + 5] = Vec8(a[5], b[1], b[5], c[1], c[5], d[1], d[5], f)
                    }
                    for q in 0..<6 {
                        let r = inputTransform(samples[q], samples[6 + q], samples[12 + q], samples[18 + q],
                                               samples[24 + q], samples[30 + q])
                        rows[q] = r.0; rows[6 + q] = r.1; rows[12 + q] = r.2
                        rows[18 + q] = r.3; rows[24 + q] = r.4; rows[30 + q] = r.5
                    }
                } else {
                for q in 0..<6 {
                    var d0 = Vec8(), d1 = Vec8(), d2 = Vec8(), d3 = Vec8(), d4 = Vec8(), d5 = Vec8()
                    for j in 0..<min(8, count - j0) {
                        let t = t0 + j0 + j
                        let iy = 4 * (t / tw) - g.padTop, ix = 4 * (t % tw) - g.padLeft + q
                        let s: UnsafePointer<Float>, step: Int
                        if iy >= 0 && iy + 6 <= ih && ix >= 0 && ix < iw {
                            s = channel + iy * iw + ix; step = iw
                        } else {
                            let sx = g.source(ix, iw)
                            for r in 0..<6 {
                                if let sx, let sy = g.source(iy + r, ih) { patch[r] = channel[sy * iw + sx] } else { patch[r] = 0 }
                            }
                            s = UnsafePointer(patch); step = 1
                        }
                        d0[j] = s[0]; d1[j] = s[step]; d2[j] = s[2 * step]
                        d3[j] = s[3 * step]; d4[j] = s[4 * step]; d5[j] = s[5 * step]
                    }
                    let r = inputTransform(d0, d1, d2, d3, d4, d5)
                    rows[q] = r.0; rows[6 + q] = r.1; rows[12 + q] = r.2
                    rows[18 + q] = r.3; rows[24 + q] = r.4; rows[30 + q] = r.5
                }
                }
                let base = v + (j0 / nr * ci + c) * nr + j0 % nr
                for r in 0..<6 {
                    let e = inputTransform(rows[r * 6], rows[r * 6 + 1], rows[r * 6 + 2], rows[r * 6 + 3],
                                           rows[r * 6 + 4], rows[r * 6 + 5])
                    store8(e.0, base + (r * 6) * position); store8(e.1, base + (r * 6 + 1) * position)
                    store8(e.2, base + (r * 6 + 2) * position); store8(e.3, base + (r * 6 + 3) * position)
                    store8(e.4, base + (r * 6 + 4) * position); store8(e.5, base + (r * 6 + 5) * position)
                }
            }
        }
    }

    /// Y = Aᵀ M A for the tiles of one block, then bias and activation, cropped to the output.
    @inline(__always)
    static func winogradOutput(_ m: UnsafePointer<Float>, _ g: ConvGeometry, tilesAcross tw: Int, firstTile t0: Int,
                               count: Int, blockTiles: Int, bias: UnsafePointer<Float>?, activation: Activation,
                               into out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Vec8>) {
        let co = g.outPerGroup, oh = g.outHeight, ow = g.outWidth, position = co * blockTiles
        let columns = scratch, outputs = scratch + 24   // Aᵀ·M [row][column], then the 4×4 outputs
        for o in 0..<co {
            let mo = m + o * blockTiles, dst = out + o * oh * ow, b = Vec8(repeating: bias?[o] ?? 0)
            let activation = activation.channel(o)
            for j0 in stride(from: 0, to: count, by: 8) {
                for q in 0..<6 {
                    let s = mo + j0 + q * position
                    let r = outputTransform(load8(s), load8(s + 6 * position), load8(s + 12 * position),
                                            load8(s + 18 * position), load8(s + 24 * position), load8(s + 30 * position))
                    columns[q] = r.0; columns[6 + q] = r.1; columns[12 + q] = r.2; columns[18 + q] = r.3
                }
                for r in 0..<4 {
                    let e = outputTransform(columns[r * 6], columns[r * 6 + 1], columns[r * 6 + 2],
                                            columns[r * 6 + 3], columns[r * 6 + 4], columns[r * 6 + 5])
                    outputs[r * 4] = activation.apply(e.0 + b); outputs[r * 4 + 1] = activation.apply(e.1 + b)
                    outputs[r * 4 + 2] = activation.apply(e.2 + b); outputs[r * 4 + 3] = activation.apply(e.3 + b)
                }
                let first = t0 + j0, oy = 4 * (first / tw), ox = 4 * (first % tw)
                if count - j0 >= 8 && first % tw + 8 <= tw && ox + 32 <= ow && oy + 4 <= oh {
                    // Eight tiles side by side, all inside: each output row is 32 contiguous samples, the four
                    // column vectors interleaved.
                    for r in 0..<4 {
                        let c0 = outputs[r * 4], c1 = outputs[r * 4 + 1], c2 = outputs[r * 4 + 2], c3 = outputs[r * 4 + 3]
                        let row = dst + (oy + r) * ow + ox
                        store8(Vec8(c0[0], c1[0], c2[0], c3[0], c0[1], c1[1], c2[1], c3[1]), row)
                        store8(Vec8(c0[2], c1[2], c2[2], c3[2], c0[3], c1[3], c2[3], c3[3]), row + 8)
                        store8(Vec8(c0[4], c1[4], c2[4], c3[4], c0[5], c1[5], c2[5], c3[5]), row + 16)
                        store8(Vec8(c0[6], c1[6], c2[6], c3[6], c0[7], c1[7], c2[7], c3[7]), row + 24)
                    }
                    continue
                }
                for j in 0..<min(8, count - j0) {
                    let t = t0 + j0 + j, oy = 4 * (t / tw), ox = 4 * (t % tw)
                    for r in 0..<min(4, oh - oy) {
                        let row = dst + (oy + r) * ow + ox
                        for c in 0..<min(4, ow - ox) { row[c] = outputs[r * 4 + c][j] }
                    }
                }
            }
        }
    }
}

extension Convolution {
    /// Convolution from raw weights [Cout][Cin/groups][kh][kw]: Winograd where it applies, else the packed paths.
    public static func forward(input x: UnsafePointer<Float>, batch: Int, weights w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                               activation: Activation = .none, pool: ThreadPool = .shared) {
        if usesWinograd(g) {
            return forwardWinograd(input: x, batch: batch, weights: w, bias: bias, output: y, geometry: g,
                                   activation: activation, pool: pool)
        }
        let packed = packWeights(w, g)
        packed.withUnsafeBufferPointer {
            forward(input: x, batch: batch, packedWeights: $0.baseAddress!, bias: bias, output: y, geometry: g,
                    activation: activation, pool: pool)
        }
    }

    /// Whether `forward(planes:…)` can convolve channels that lie in separate planes: the direct and
    /// implicit-im2col paths, one group.
    public static func takesSeparatePlanes(_ g: ConvGeometry) -> Bool {
        g.groups == 1 && !usesWinograd(g)
    }

    /// The convolution of one image whose input channel c is the plane at `planes[c]` (the channel concatenation
    /// of several tensors, never copied into one block): the direct path pads straight from each plane, im2col
    /// packs straight from each. Same bytes as
    /// `forward` on the concatenation. Needs `takesSeparatePlanes(g)`.
    public static func forward(planes: UnsafePointer<UnsafePointer<Float>>, weights w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                               activation: Activation = .none, pool: ThreadPool = .shared) {
        precondition(takesSeparatePlanes(g), "convolution: separate input planes need the direct or im2col path")
        let packed = packWeights(w, g)
        packed.withUnsafeBufferPointer { a in
            if usesDirectPath(g) {
                return forwardDirect(input: planes[0], planes: planes, batch: 1, packedWeights: a.baseAddress!, bias: bias,
                                     output: y, geometry: g, activation: activation, pool: pool)
            }
            GEMM.multiply(m: g.outChannels, n: g.outHeight * g.outWidth, k: g.depth, packedA: a.baseAddress!,
                          b: ConvInputPanels(input: planes[0], g: g, planes: planes), c: y, ldc: g.outHeight * g.outWidth,
                          bias: bias, activation: activation, pool: pool)
        }
    }
}
