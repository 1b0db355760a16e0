import Kernels

extension Tensor {
    /// Concatenation along `axis` (images: 1 for channels).
    public static func concat(_ parts: [Tensor], axis: Int = 1) -> Tensor {
        precondition(!parts.isEmpty)
        let base = parts[0].shape
        for p in parts { precondition(p.rank == base.count && (0..<base.count).allSatisfy { $0 == axis || p.shape[$0] == base[$0] },
                                      "concat: shapes \(parts.map(\.shape)) differ off axis \(axis)") }
        let outer = base[..<axis].reduce(1, *), inner = base[(axis + 1)...].reduce(1, *)
        let sizes = parts.map { $0.shape[axis] }
        var shape = base; shape[axis] = sizes.reduce(0, +)
        var out = Tensor.outputStorage(shape.reduce(1, *))
        out.withUnsafeMutableBufferPointer { po in
            var dst = po.baseAddress!
            for o in 0..<outer { for (p, s) in zip(parts, sizes) {
                p.data.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + o * s * inner, count: s * inner) }
                dst += s * inner
            } }
        }
        return result(shape, out, inputs: parts) { g in
            var grads: [Tensor?] = []
            var offset = 0
            for (p, s) in zip(parts, sizes) {
                var d = Tensor.outputStorage(p.count)
                g.data.withUnsafeBufferPointer { pg in d.withUnsafeMutableBufferPointer { pd in
                    for o in 0..<outer {
                        (pd.baseAddress! + o * s * inner).update(from: pg.baseAddress! + (o * shape[axis] + offset) * inner, count: s * inner)
                    }
                } }
                grads.append(Tensor(shape: p.shape, data: d))
                offset += s
            }
            return grads
        }
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int = 1, _ range: Range<Int>) -> Tensor {
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *), n = shape[axis]
        var newShape = shape; newShape[axis] = range.count
        var out = Tensor.outputStorage(newShape.reduce(1, *))
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            for o in 0..<outer {
                (po.baseAddress! + o * range.count * inner).update(from: px.baseAddress! + (o * n + range.lowerBound) * inner,
                                                                   count: range.count * inner)
            }
        } }
        return Tensor.result(newShape, out, inputs: [self]) { [shape] g in
            var d = Tensor.zeroedStorage(shape.reduce(1, *))
            for o in 0..<outer {
                let src = o * range.count * inner, dst = (o * n + range.lowerBound) * inner
                for i in 0..<(range.count * inner) { d[dst + i] = g.data[src + i] }
            }
            return [Tensor(shape: shape, data: d)]
        }
    }

    /// Rearranges [N, C·r², H, W] into [N, C, H·r, W·r] (PyTorch `pixel_shuffle`).
    public func pixelShuffle(_ r: Int) -> Tensor {
        let (n, cr, h, w) = (shape[0], shape[1], shape[2], shape[3]), c = cr / (r * r)
        precondition(c * r * r == cr, "pixel shuffle: channels \(cr) not divisible by \(r * r)")
        var out = Tensor.outputStorage(count)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            PixelShuffle.apply(px.baseAddress!, po.baseAddress!, planes: n * c, r: r, h: h, w: w)
        } }
        return Tensor.result([n, c, h * r, w * r], out, inputs: [self]) { [shape] g in
            var d = Tensor.zeroedStorage(g.count)
            g.data.withUnsafeBufferPointer { pg in d.withUnsafeMutableBufferPointer { pd in
                PixelShuffle.apply(pd.baseAddress!, UnsafeMutablePointer(mutating: pg.baseAddress!), planes: n * c, r: r,
                                   h: h, w: w, inverse: true)
            } }
            return [Tensor(shape: shape, data: d)]
        }
    }

    /// `body` with the tensor's storage, or nil.
    static func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let t else { return body(nil) }
        return t.data.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Average pooling over k×k windows with stride s (no padding).
    public func avgPool(_ k: Int, stride s: Int? = nil) -> Tensor {
        let s = s ?? k
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]), oh = (h - k) / s + 1, ow = (w - k) / s + 1
        var out = Tensor.outputStorage(n * c * oh * ow)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Pooling.average(px.baseAddress!, planes: n * c, h: h, w: w, kernel: k, stride: s, into: po.baseAddress!)
        } }
        return Tensor.result([n, c, oh, ow], out, inputs: [self]) { [shape] g in
            var d = Tensor.zeroedStorage(shape.reduce(1, *))
            let scale = 1 / Float(k * k)
            g.data.withUnsafeBufferPointer { pg in d.withUnsafeMutableBufferPointer { pd in
                for p in 0..<(n * c) { for r in 0..<oh { for q in 0..<ow {
                    let v = pg[(p * oh + r) * ow + q] * scale
                    for i in 0..<k { for j in 0..<k { pd[(p * h + r * s + i) * w + q * s + j] += v } }
                } } }
            } }
            return [Tensor(shape: shape, data: d)]
        }
    }

    /// Max pooling over k×k windows with stride s (no padding); the gradient goes to each window's maximum.
    public func maxPool(_ k: Int, stride s: Int? = nil) -> Tensor {
        let s = s ?? k
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]), oh = (h - k) / s + 1, ow = (w - k) / s + 1
        var out = Tensor.zeroedStorage(n * c * oh * ow)
        var arg = [Int32](repeating: 0, count: out.count)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in arg.withUnsafeMutableBufferPointer { pa in
            Pooling.max(px.baseAddress!, planes: n * c, h: h, w: w, kernel: k, stride: s, into: po.baseAddress!, argmax: pa.baseAddress!)
        } } }
        return Tensor.result([n, c, oh, ow], out, inputs: [self]) { [shape] g in
            var d = Tensor.zeroedStorage(shape.reduce(1, *))
            for p in 0..<(n * c) { for i in 0..<(oh * ow) { d[p * h * w + Int(arg[p * oh * ow + i])] += g.data[p * oh * ow + i] } }
            return [Tensor(shape: shape, data: d)]
        }
    }

    /// The transposed convolution followed by a PReLU with `slopes` (one per output channel): fused into the
    /// convolution's epilogue in inference where the phase decomposition applies (same bytes as the two steps).
    public func convTranspose2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, prelu slopes: Tensor) -> Tensor {
        if tracked || weight.tracked || (bias?.tracked ?? false) || slopes.tracked {
            return convTranspose2d(weight, bias: bias, stride: stride, padding: padding).prelu(slopes)
        }
        return slopes.data.withUnsafeBufferPointer {
            convTranspose2d(weight, bias: bias, stride: stride, padding: padding, activation: .prelu($0.baseAddress!))
        }
    }

    /// Transposed convolution (PyTorch `conv_transpose2d`): weights [Cin][Cout/groups][kh][kw].
    public func convTranspose2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                                outputPadding: Int = 0, groups: Int = 1) -> Tensor {
        convTranspose2d(weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, groups: groups,
                        activation: .none)
    }

    /// `activation` is fused (untracked only: the recorded path's backward knows no activation).
    func convTranspose2d(_ weight: Tensor, bias: Tensor?, stride: Int, padding: Int, outputPadding: Int = 0, groups: Int = 1,
                         activation: Activation) -> Tensor {
        precondition(activation == .none || !(tracked || weight.tracked || (bias?.tracked ?? false)),
                     "conv_transpose2d: a fused activation is for inference")
        precondition(rank == 4 && weight.rank == 4 && shape[1] == weight.shape[0])
        let (n, cin, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let cout = weight.shape[1] * groups, k = weight.shape[2]
        let oh = (h - 1) * stride - 2 * padding + k + outputPadding, ow = (w - 1) * stride - 2 * padding + k + outputPadding
        // It is the adjoint of a convolution from the output's shape to the input's: same geometry, roles swapped.
        var g = ConvGeometry(inChannels: cout, outChannels: cin, inHeight: oh, inWidth: ow, kernel: k, stride: stride,
                             pad: padding, groups: groups)
        g.padBottom = padding; g.padRight = padding
        precondition(g.outHeight == h && g.outWidth == w, "conv_transpose2d: inconsistent sizes")
        var out = Tensor.outputStorage(n * cout * oh * ow)   // every path writes every element
        // One stride-1 convolution per output phase where it applies (bias included), else the adjoint of the
        // convolution with a column buffer.
        let phased = data.withUnsafeBufferPointer { px in weight.data.withUnsafeBufferPointer { pw in
            out.withUnsafeMutableBufferPointer { po in
                Tensor.withOptionalPointer(bias) { pb in
                    Convolution.transposedForward(input: px.baseAddress!, batch: n, weights: pw.baseAddress!, bias: pb,
                                                  output: po.baseAddress!, geometry: g, activation: activation)
                }
            }
        } }
        if !phased {
            data.withUnsafeBufferPointer { px in weight.data.withUnsafeBufferPointer { pw in out.withUnsafeMutableBufferPointer { po in
                Convolution.backwardInput(gradOutput: px.baseAddress!, weights: pw.baseAddress!, batch: n,
                                          gradInput: po.baseAddress!, geometry: g)
            } } }
        }
        if let bias, !phased {
            let plane = oh * ow
            for b in 0..<n { for c in 0..<cout { for i in 0..<plane { out[(b * cout + c) * plane + i] += bias.data[c] } } }
        }
        if !phased && activation != .none {
            // The adjoint path has no epilogue: the activation runs on its own (PReLU per output channel).
            let plane = oh * ow
            for b in 0..<n { for c in 0..<cout {
                let a = activation.channel(c)
                for i in 0..<plane { out[(b * cout + c) * plane + i] = a.apply(out[(b * cout + c) * plane + i]) }
            } }
        }
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.result([n, cout, oh, ow], out, inputs: inputs) { [self] gy in
            // d input = conv(gy, W); d W = correlation of gy with the input, as a convolution's weight gradient.
            var dx = Tensor.zeroedStorage(self.count), dw = Tensor.zeroedStorage(weight.count)
            var db = Tensor.zeroedStorage(cout)
            let packed = weight.data.withUnsafeBufferPointer { Convolution.packWeights($0.baseAddress!, g) }
            gy.data.withUnsafeBufferPointer { pg in
                packed.withUnsafeBufferPointer { pw in dx.withUnsafeMutableBufferPointer { pd in
                    Convolution.forward(input: pg.baseAddress!, batch: n, packedWeights: pw.baseAddress!, bias: nil,
                                        output: pd.baseAddress!, geometry: g)
                } }
                self.data.withUnsafeBufferPointer { px in dw.withUnsafeMutableBufferPointer { pdw in
                    Convolution.backwardWeights(gradOutput: px.baseAddress!, input: pg.baseAddress!, batch: n,
                                                gradWeights: pdw.baseAddress!, gradBias: nil, geometry: g)
                } }
            }
            let plane = oh * ow
            for c in 0..<cout {
                var s = 0.0
                for b in 0..<n { for i in 0..<plane { s += Double(gy.data[(b * cout + c) * plane + i]) } }
                db[c] = Float(s)
            }
            let grads: [Tensor?] = [Tensor(shape: self.shape, data: dx), Tensor(shape: weight.shape, data: dw)]
            return bias == nil ? grads : grads + [Tensor(shape: [cout], data: db)]
        }
    }
}
