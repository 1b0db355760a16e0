import Foundation
/// Winograd F(2×2, 3×3) for stride-1 3×3 convolutions (Lavin & Gray 2016): each 4×4 input tile and 3×3 filter
/// are transformed so that a 2×2 output tile costs 16 multiplies per channel pair instead of 36. The 16
/// transform positions become 16 independent GEMMs (Cout × Cin times Cin × tiles) on the packed GEMM; input
/// and output transforms are cheap adds.
extension Convolution {
    /// Whether `forward` takes the Winograd path: 3×3, stride 1, no dilation, and enough channels and tiles to
    /// amortise the transforms. Measured (one thread): 64 ch at 128² 16.0 → 12.7 ms, 128 ch at 64² 13.3 → 9.8 ms;
    /// but 32 ch at 256² 13.6 → 22 ms and 256 ch at 32² (256 tiles) no gain, so those stay on the other paths.
    public static func usesWinograd(_ g: ConvGeometry) -> Bool {
        winogradEnabled && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideX == 1 && g.strideY == 1
            && g.dilationX == 1 && g.dilationY == 1 && g.inPerGroup >= minimumWinogradChannels
            && g.outPerGroup >= minimumWinogradChannels && ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2) >= 1024
    }
    /// Lowered by the tests to exercise the path on small inputs.
    nonisolated(unsafe) static var minimumWinogradChannels = 48
    /// TWEEN_WINOGRAD=0 turns the path off (for comparisons).
    nonisolated(unsafe) public static var winogradEnabled = ProcessInfo.processInfo.environment["TWEEN_WINOGRAD"] != "0"

    /// U = G g Gᵀ for every (cout, cin) of one group, stored [16][Cout][Cin] and packed per position for the GEMM.
    static func winogradWeights(_ w: UnsafePointer<Float>, _ g: ConvGeometry, group: Int) -> [Float] {
        let co = g.outPerGroup, ci = g.inPerGroup
        var u = [Float](repeating: 0, count: 16 * co * ci)
        for o in 0..<co { for i in 0..<ci {
            let k = w + ((group * co + o) * ci + i) * 9
            // G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
            var t = [Float](repeating: 0, count: 12)   // G·g, 4×3 (weights are transformed once per call)
            for c in 0..<3 {
                let a = k[c], b = k[3 + c], d = k[6 + c]
                t[c] = a; t[3 + c] = 0.5 * (a + b + d); t[6 + c] = 0.5 * (a - b + d); t[9 + c] = d
            }
            for r in 0..<4 {
                let a = t[r * 3], b = t[r * 3 + 1], d = t[r * 3 + 2]
                let row = [a, 0.5 * (a + b + d), 0.5 * (a - b + d), d]
                for c in 0..<4 { u[((r * 4 + c) * co + o) * ci + i] = row[c] }
            }
        } }
        var packed = [Float](repeating: 0, count: 16 * GEMM.packedASize(m: co, k: ci))
        let per = GEMM.packedASize(m: co, k: ci)
        u.withUnsafeBufferPointer { pu in packed.withUnsafeMutableBufferPointer { pp in
            for xi in 0..<16 { GEMM.packA(pu.baseAddress! + xi * co * ci, lda: ci, m: co, k: ci, into: pp.baseAddress! + xi * per) }
        } }
        return packed
    }

    static func forwardWinograd(input x: UnsafePointer<Float>, batch: Int, weights w: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                                activation: Activation, pool: ThreadPool) {
        let co = g.outPerGroup, ci = g.inPerGroup, oh = g.outHeight, ow = g.outWidth
        let th = (oh + 1) / 2, tw = (ow + 1) / 2, tiles = th * tw
        // Padded input large enough for every 4×4 tile: (2·th + 2) × (2·tw + 2).
        let ph = 2 * th + 2, pw = 2 * tw + 2
        var padded = g
        padded.padBottom = ph - g.inHeight - g.padTop; padded.padRight = pw - g.inWidth - g.padLeft
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: ci * ph * pw)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * ci * tiles)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * co * tiles)
        defer { buffer.deallocate(); v.deallocate(); m.deallocate() }
        let per = GEMM.packedASize(m: co, k: ci)
        for group in 0..<g.groups {
            let u = winogradWeights(w, g, group: group)
            for n in 0..<batch {
                // Rows and columns beyond the real padding only feed output samples that are cropped.
                padInput(x + (n * g.inChannels + group * ci) * g.inHeight * g.inWidth, channels: ci, padded, into: buffer, pool: pool)
                // V = Bᵀ d B per tile and channel, stored [16][Cin][tiles].
                let (bA, vA) = (Int(bitPattern: buffer), Int(bitPattern: v))
                pool.parallelFor(ci) { c in
                    let src = UnsafePointer<Float>(bitPattern: bA)! + c * ph * pw, v = UnsafeMutablePointer<Float>(bitPattern: vA)!
                    for ty in 0..<th { for tx in 0..<tw {
                        let base = src + (2 * ty) * pw + 2 * tx
                        var d = SIMD16<Float>()
                        for r in 0..<4 { for q in 0..<4 { d[r * 4 + q] = base[r * pw + q] } }
                        // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], applied to rows then columns.
                        var t = SIMD16<Float>()
                        for q in 0..<4 {
                            t[q] = d[q] - d[8 + q]; t[4 + q] = d[4 + q] + d[8 + q]
                            t[8 + q] = d[8 + q] - d[4 + q]; t[12 + q] = d[4 + q] - d[12 + q]
                        }
                        let tile = ty * tw + tx
                        for r in 0..<4 {
                            let a = t[r * 4], b = t[r * 4 + 1], e = t[r * 4 + 2], f = t[r * 4 + 3]
                            v[((r * 4 + 0) * ci + c) * tiles + tile] = a - e
                            v[((r * 4 + 1) * ci + c) * tiles + tile] = b + e
                            v[((r * 4 + 2) * ci + c) * tiles + tile] = e - b
                            v[((r * 4 + 3) * ci + c) * tiles + tile] = b - f
                        }
                    } }
                }
                // M_ξ = U_ξ · V_ξ for the 16 positions.
                u.withUnsafeBufferPointer { pu in
                    for xi in 0..<16 {
                        GEMM.multiply(m: co, n: tiles, k: ci, packedA: pu.baseAddress! + xi * per,
                                      b: MatrixPanels(v + xi * ci * tiles, ldb: tiles), c: m + xi * co * tiles, ldc: tiles, pool: pool)
                    }
                }
                // Y = Aᵀ M A, Aᵀ = [1 1 1 0; 0 1 −1 −1], then bias and activation, cropped to the output.
                let out = y + (n * g.outChannels + group * co) * oh * ow
                let (mA, oA) = (Int(bitPattern: m), Int(bitPattern: out))
                pool.parallelFor(co) { o in
                    let m = UnsafePointer<Float>(bitPattern: mA)!, dst = UnsafeMutablePointer<Float>(bitPattern: oA)! + o * oh * ow
                    let b = bias?[group * co + o] ?? 0
                    for ty in 0..<th { for tx in 0..<tw {
                        let tile = ty * tw + tx
                        var s = SIMD16<Float>()
                        for xi in 0..<16 { s[xi] = m[(xi * co + o) * tiles + tile] }
                        var t = SIMD8<Float>()   // Aᵀ·M, 2×4
                        for q in 0..<4 { t[q] = s[q] + s[4 + q] + s[8 + q]; t[4 + q] = s[4 + q] - s[8 + q] - s[12 + q] }
                        let y00 = t[0] + t[1] + t[2], y01 = t[1] - t[2] - t[3]
                        let y10 = t[4] + t[5] + t[6], y11 = t[5] - t[6] - t[7]
                        let oy = 2 * ty, ox = 2 * tx
                        dst[oy * ow + ox] = activation.apply(y00 + b)
                        if ox + 1 < ow { dst[oy * ow + ox + 1] = activation.apply(y01 + b) }
                        if oy + 1 < oh {
                            dst[(oy + 1) * ow + ox] = activation.apply(y10 + b)
                            if ox + 1 < ow { dst[(oy + 1) * ow + ox + 1] = activation.apply(y11 + b) }
                        }
                    } }
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
}
