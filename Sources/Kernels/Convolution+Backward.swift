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

    func pack(k0: Int, kc: Int, n0: Int, nr: Int, into dst: UnsafeMutablePointer<Float>) {
        let ow = g.outWidth, kh = g.kernelHeight, kw = g.kernelWidth, plane = g.inHeight * g.inWidth
        withUnsafeTemporaryAllocation(of: (Int, Int, Int).self, capacity: GEMM.nr) { taps in
            for j in 0..<nr {
                let t = n0 + j
                taps[j] = (t / (kh * kw), (t / kw) % kh, t % kw)
            }
            for kk in 0..<kc {
                let p = k0 + kk, oy = p / ow, ox = p % ow
                let d = dst + kk * GEMM.nr
                for j in 0..<nr {
                    let (c, ky, kx) = taps[j]
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                    if let sy = g.source(iy, g.inHeight), let sx = g.source(ix, g.inWidth) {
                        d[j] = input[c * plane + sy * g.inWidth + sx]
                    } else {
                        d[j] = 0
                    }
                }
                for j in nr..<GEMM.nr { d[j] = 0 }
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
                                for q in 0..<cols {
                                    let p = p0 + q, oy = p / ow, ox = p % ow
                                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                                    let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                                    if let sy = g.source(iy, g.inHeight), let sx = g.source(ix, g.inWidth) {
                                        plane[sy * g.inWidth + sx] += row[q]
                                    }
                                }
                            } }
                        }
                        p0 += cols
                    }
                }
            }
        }
    }

    /// dW (overwritten) and dBias (overwritten, if given) from dY and the input.
    public static func backwardWeights(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, batch: Int,
                                       gradWeights dw: UnsafeMutablePointer<Float>, gradBias db: UnsafeMutablePointer<Float>?,
                                       geometry g: ConvGeometry, pool: ThreadPool = .shared) {
        let depth = g.depth, m = g.outPerGroup
        let outPlane = g.outHeight * g.outWidth, inPlane = g.inHeight * g.inWidth
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: GEMM.packedASize(m: m, k: outPlane))
        defer { packed.deallocate() }
        for n in 0..<batch {
            for group in 0..<g.groups {
                GEMM.packA(dy + (n * g.outChannels + group * m) * outPlane, lda: outPlane, m: m, k: outPlane, into: packed)
                let source = ConvInputTransposedPanels(input: x + (n * g.inChannels + group * g.inPerGroup) * inPlane, g: g)
                GEMM.multiply(m: m, n: depth, k: outPlane, packedA: packed, b: source, c: dw + group * m * depth,
                              ldc: depth, accumulateIntoC: n > 0, pool: pool)
            }
        }
        if let db {
            for co in 0..<g.outChannels {
                var s = 0.0
                for n in 0..<batch {
                    let p = dy + (n * g.outChannels + co) * outPlane
                    for i in 0..<outPlane { s += Double(p[i]) }
                }
                db[co] = Float(s)
            }
        }
    }
}
