/// Transposed convolution (the adjoint of a strided convolution) as one stride-1 convolution and a pixel
/// shuffle: output rows ≡ r (mod s) read only the taps ky ≡ r + pad (mod s), at input offsets that all phases
/// together span in a small window, so a K×K convolution to Cout·s² channels (one per output channel and phase,
/// zero weights for the taps a phase does not use) computes every phase at once. It runs on the forward paths
/// (Winograd for RIFE's 4×4 / 2 deconvolutions, as a 3×3 convolution), with no tap-by-pixel column buffer and no
/// scatter-add, unlike `backwardInput`.
extension Convolution {
    /// The stride-1 convolution equivalent to a transposed convolution whose adjoint geometry is `g` (g's input is
    /// the transposed convolution's output), with, for each of its taps (phase, uy, ux), the original tap (ky, kx)
    /// or nil; nil where the decomposition does not apply.
    static func transposedAsConvolution(_ g: ConvGeometry) -> (geometry: ConvGeometry, tap: (Int, Int, Int) -> (ky: Int, kx: Int)?)? {
        let s = g.strideY, k = g.kernelHeight, p = g.padTop
        guard g.groups == 1, g.strideX == s, g.kernelWidth == k, s > 1, g.dilationX == 1, g.dilationY == 1,
              g.padding == .zeros, g.padLeft == p, g.padBottom == p, g.padRight == p,
              g.inHeight == s * g.outHeight, g.inWidth == s * g.outWidth else { return nil }
        // Output row j·s + r reads input row j + d through tap ky = r + p − s·d (0 ≤ ky < k).
        var offsets: [Int] = []
        for r in 0..<s { for ky in 0..<k where (r + p - ky) % s == 0 { offsets.append((r + p - ky) / s) } }
        guard let low = offsets.min(), let high = offsets.max(), low <= 0, high >= 0 else { return nil }
        let size = high - low + 1
        guard -low == high else { return nil }   // symmetric window: same-size output with padding `high`
        let conv = ConvGeometry(inChannels: g.outChannels, outChannels: g.inChannels * s * s, inHeight: g.outHeight,
                                inWidth: g.outWidth, kernel: size, pad: high)
        let tap = { (phase: Int, uy: Int, ux: Int) -> (ky: Int, kx: Int)? in
            let ky = phase / s + p - s * (uy + low), kx = phase % s + p - s * (ux + low)
            return ky >= 0 && ky < k && kx >= 0 && kx < k ? (ky, kx) : nil
        }
        return (conv, tap)
    }

    /// y[N][Cout][oh][ow] = conv_transpose(x[N][Cin][h][w], w[Cin][Cout][k][k]) + bias, where `g` is the adjoint
    /// geometry (from the output's shape to the input's, as `backwardInput` takes it). False where the
    /// decomposition does not apply (the caller falls back to `backwardInput`).
    public static func transposedForward(input x: UnsafePointer<Float>, batch: Int, weights w: UnsafePointer<Float>,
                                         bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
                                         geometry g: ConvGeometry, activation: Activation = .none,
                                         pool: ThreadPool = .shared) -> Bool {
        guard let (conv, tap) = transposedAsConvolution(g) else { return false }
        let cin = g.outChannels, cout = g.inChannels, k = g.kernelHeight, s = g.strideY, size = conv.kernelHeight
        let h = conv.inHeight, wd = conv.inWidth
        // Weights [Cout·s²][Cin][size][size], channel o·s² + phase (pixel-shuffle order); bias per channel.
        let weights = TransformedWeights.shared.value(for: w, count: cin * cout * k * k,
                                                      kind: "transposed \(cin)→\(cout) k\(k) s\(s) p\(g.padTop)") {
            var weights = [Float](repeating: 0, count: conv.outChannels * cin * size * size)
            for o in 0..<cout { for phase in 0..<s * s {
                let channel = o * s * s + phase
                for i in 0..<cin { for uy in 0..<size { for ux in 0..<size {
                    guard let t = tap(phase, uy, ux) else { continue }
                    weights[((channel * cin + i) * size + uy) * size + ux] = w[((i * cout + o) * k + t.ky) * k + t.kx]
                } } }
            } }
            return weights
        }
        var biases = [Float](repeating: 0, count: conv.outChannels)
        for channel in 0..<conv.outChannels { biases[channel] = bias?[channel / (s * s)] ?? 0 }
        // The activation is elementwise, so it goes into the convolution's epilogue, before the shuffle; a PReLU's
        // slope of output channel o serves its s² phase channels.
        var slopes: [Float] = []
        if case .prelu = activation { slopes = (0..<conv.outChannels).map { activation.slope(ofChannel: $0 / (s * s)) } }
        let phases = UnsafeMutablePointer<Float>.allocate(capacity: batch * conv.outChannels * h * wd)
        defer { phases.deallocate() }
        weights.withUnsafeBufferPointer { pw in biases.withUnsafeBufferPointer { pb in slopes.withUnsafeBufferPointer { ps in
            forward(input: x, batch: batch, weights: pw.baseAddress!, bias: pb.baseAddress!, output: phases, geometry: conv,
                    activation: slopes.isEmpty ? activation : .prelu(ps.baseAddress!), pool: pool)
        } } }
        // Pixel shuffle: phase (ry, rx) of channel o fills rows ≡ ry, columns ≡ rx.
        PixelShuffle.apply(phases, y, planes: batch * cout, r: s, h: h, w: wd, pool: pool)
        return true
    }
}
