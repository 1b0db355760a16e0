/// How samples outside the input are read.
public enum PaddingMode: Sendable, Equatable { case zeros, replicate, reflect }

/// Shape of a 2-D convolution on NCHW tensors, with PyTorch's conventions (weights [Cout][Cin/groups][kh][kw]).
public struct ConvGeometry: Sendable, Equatable {
    public var inChannels: Int, outChannels: Int
    public var inHeight: Int, inWidth: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideY: Int = 1, strideX: Int = 1
    public var padTop: Int = 0, padBottom: Int = 0, padLeft: Int = 0, padRight: Int = 0
    public var dilationY: Int = 1, dilationX: Int = 1
    public var groups: Int = 1
    public var padding: PaddingMode = .zeros

    public init(inChannels: Int, outChannels: Int, inHeight: Int, inWidth: Int, kernel: Int, stride: Int = 1,
                pad: Int = 0, dilation: Int = 1, groups: Int = 1, padding: PaddingMode = .zeros) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.inHeight = inHeight; self.inWidth = inWidth
        kernelHeight = kernel; kernelWidth = kernel; strideY = stride; strideX = stride
        padTop = pad; padBottom = pad; padLeft = pad; padRight = pad
        dilationY = dilation; dilationX = dilation; self.groups = groups; self.padding = padding
    }

    public var outHeight: Int { (inHeight + padTop + padBottom - dilationY * (kernelHeight - 1) - 1) / strideY + 1 }
    public var outWidth: Int { (inWidth + padLeft + padRight - dilationX * (kernelWidth - 1) - 1) / strideX + 1 }
    public var inPerGroup: Int { inChannels / groups }
    public var outPerGroup: Int { outChannels / groups }
    /// GEMM depth: input channels of a group × kernel taps.
    public var depth: Int { inPerGroup * kernelHeight * kernelWidth }
    public var flops: Double { 2 * Double(outChannels * outHeight * outWidth) * Double(depth) }

    /// The input row (or column) index that a padded position reads, or nil for a zero.
    @inline(__always) public func source(_ i: Int, _ n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch padding {
        case .zeros: return nil
        case .replicate: return min(max(i, 0), n - 1)
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            var j = i % period
            if j < 0 { j += period }
            return j < n ? j : period - j
        }
    }
}

/// Implicit im2col: packs GEMM B panels straight from one input image (and group), never building the
/// K × pixels matrix. Row k = (c·kh + ky)·kw + kx; column = output pixel oy·outW + ox.
struct ConvInputPanels: PanelSource {
    let input: UnsafePointer<Float>     // first channel of the group
    let g: ConvGeometry
    /// One plane pointer per input channel, when the channels are not one block (a concatenation never built).
    var planes: UnsafePointer<UnsafePointer<Float>>? = nil

    @inline(__always)
    func pack(k0: Int, kc: Int, n0: Int, nr: Int, into dst: UnsafeMutablePointer<Float>) {
        let ow = g.outWidth, kh = g.kernelHeight, kw = g.kernelWidth
        let ih = g.inHeight, iw = g.inWidth, plane = ih * iw, width = GEMM.nr
        // Split the panel's pixels into runs that lie on one output row.
        withUnsafeTemporaryAllocation(of: (j0: Int, j1: Int, oy: Int, ox0: Int).self, capacity: width) { runBuffer in
        var runCount = 0
        var j = 0
        while j < nr {
            let p = n0 + j, oy = p / ow, ox = p % ow
            let len = min(nr - j, ow - ox)
            runBuffer[runCount] = (j, j + len, oy, ox); runCount += 1
            j += len
        }
        let runs = UnsafeBufferPointer(rebasing: runBuffer[0..<runCount])
        var c = k0 / (kh * kw), rem = k0 % (kh * kw)
        var ky = rem / kw, kx = rem % kw
        for kk in 0..<kc {
            let d = dst + kk * width
            let channel = planes?[c] ?? input + c * plane
            for run in runs {
                let iy = run.oy * g.strideY - g.padTop + ky * g.dilationY
                let ix0 = run.ox0 * g.strideX - g.padLeft + kx * g.dilationX
                let count = run.j1 - run.j0
                guard let sy = g.source(iy, ih) else {
                    for t in run.j0..<run.j1 { d[t] = 0 }
                    continue
                }
                let row = channel + sy * iw
                if g.strideX == 1 && ix0 >= 0 && ix0 + count <= iw {
                    (d + run.j0).update(from: row + ix0, count: count)   // the common case: one contiguous copy
                } else if ix0 >= 0 && ix0 + (count - 1) * g.strideX < iw {
                    // Strided but inside the row: no padding lookups.
                    let out = d + run.j0, s = g.strideX
                    for t in 0..<count { out[t] = row[ix0 + t * s] }
                } else {
                    for t in 0..<count {
                        let ix = ix0 + t * g.strideX
                        d[run.j0 + t] = g.source(ix, iw).map { row[$0] } ?? 0
                    }
                }
            }
            for t in nr..<width { d[t] = 0 }
            kx += 1
            if kx == kw { kx = 0; ky += 1; if ky == kh { ky = 0; c += 1 } }
        }
        }
    }
}

public enum Convolution {
    /// Packs weights [Cout][Cin/groups][kh][kw] for `forward`, one packed A per group.
    public static func packWeights(_ w: UnsafePointer<Float>, _ g: ConvGeometry) -> [Float] {
        let per = GEMM.packedASize(m: g.outPerGroup, k: g.depth)
        var packed = [Float](repeating: 0, count: per * g.groups)
        packed.withUnsafeMutableBufferPointer { dst in
            for group in 0..<g.groups {
                GEMM.packA(w + group * g.outPerGroup * g.depth, lda: g.depth, m: g.outPerGroup, k: g.depth,
                           into: dst.baseAddress! + group * per)
            }
        }
        return packed
    }

    /// y[N][Cout][oh][ow] = conv(x[N][Cin][ih][iw], w) + bias, with a fused activation.
    public static func forward(input x: UnsafePointer<Float>, batch: Int, packedWeights: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                               activation: Activation = .none, pool: ThreadPool = .shared) {
        if usesDirectPath(g) {
            return forwardDirect(input: x, batch: batch, packedWeights: packedWeights, bias: bias, output: y,
                                 geometry: g, activation: activation, pool: pool)
        }
        let per = GEMM.packedASize(m: g.outPerGroup, k: g.depth)
        let inImage = g.inChannels * g.inHeight * g.inWidth, outPlane = g.outHeight * g.outWidth
        // A 1×1 convolution without stride or padding is a plain GEMM on the input planes.
        let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideX == 1 && g.strideY == 1
            && g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
        for n in 0..<batch {
            for group in 0..<g.groups {
                let groupInput = x + n * inImage + group * g.inPerGroup * g.inHeight * g.inWidth
                if pointwise {
                    GEMM.multiply(m: g.outPerGroup, n: outPlane, k: g.depth, packedA: packedWeights + group * per,
                                  b: MatrixPanels(groupInput, ldb: outPlane),
                                  c: y + (n * g.outChannels + group * g.outPerGroup) * outPlane, ldc: outPlane,
                                  bias: bias.map { $0 + group * g.outPerGroup }, activation: activation.from(group * g.outPerGroup), pool: pool)
                    continue
                }
                let source = ConvInputPanels(input: x + n * inImage + group * g.inPerGroup * g.inHeight * g.inWidth, g: g)
                GEMM.multiply(m: g.outPerGroup, n: outPlane, k: g.depth, packedA: packedWeights + group * per, b: source,
                              c: y + (n * g.outChannels + group * g.outPerGroup) * outPlane, ldc: outPlane,
                              bias: bias.map { $0 + group * g.outPerGroup }, activation: activation.from(group * g.outPerGroup), pool: pool)
            }
        }
    }
}
