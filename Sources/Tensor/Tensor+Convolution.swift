import Kernels

extension Tensor {
    /// 2-D convolution of an NCHW input with weights [Cout][Cin/groups][kh][kw] and an optional bias [Cout].
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       groups: Int = 1, paddingMode: PaddingMode = .zeros, activation: Activation = .none) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "conv2d takes NCHW input and 4-D weights")
        let g = ConvGeometry(inChannels: shape[1], outChannels: weight.shape[0], inHeight: shape[2], inWidth: shape[3],
                             kernel: weight.shape[2], stride: stride, pad: padding, dilation: dilation, groups: groups,
                             padding: paddingMode)
        return conv2d(weight, bias: bias, geometry: g, activation: activation)
    }

    /// The same convolution followed by a PReLU with `slopes` (fused in inference).
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       groups: Int = 1, paddingMode: PaddingMode = .zeros, prelu slopes: Tensor) -> Tensor {
        let g = ConvGeometry(inChannels: shape[1], outChannels: weight.shape[0], inHeight: shape[2], inWidth: shape[3],
                             kernel: weight.shape[2], stride: stride, pad: padding, dilation: dilation, groups: groups,
                             padding: paddingMode)
        return conv2d(weight, bias: bias, geometry: g, prelu: slopes)
    }

    /// The convolution followed by a PReLU with `slopes` (one per output channel): fused in inference.
    public func conv2d(_ weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, prelu slopes: Tensor) -> Tensor {
        precondition(slopes.count == g.outChannels, "conv2d: \(slopes.count) PReLU slopes for \(g.outChannels) channels")
        if tracked || weight.tracked || (bias?.tracked ?? false) || slopes.tracked {
            return conv2d(weight, bias: bias, geometry: g).prelu(slopes)
        }
        return slopes.data.withUnsafeBufferPointer { conv2d(weight, bias: bias, geometry: g, activation: .prelu($0.baseAddress!)) }
    }

    /// Convolution with a full geometry (asymmetric kernels, strides and padding), then `activation`: fused into
    /// the kernels' epilogue in inference, a separate operation (with its backward) when gradients are recorded.
    /// Both give the same bytes.
    public func conv2d(_ weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, activation: Activation = .none) -> Tensor {
        precondition(shape[1] == g.inChannels && weight.shape == [g.outChannels, g.inPerGroup, g.kernelHeight, g.kernelWidth],
                     "conv2d: input \(shape) and weights \(weight.shape) do not match")
        if activation != .none && (tracked || weight.tracked || (bias?.tracked ?? false)) {
            let y = conv2d(weight, bias: bias, geometry: g)
            switch activation {
            case .none: return y
            case .relu: return y.relu()
            case .leakyReLU(let slope): return y.leakyReLU(slope)
            case .prelu: preconditionFailure("conv2d: a recorded PReLU takes conv2d(_:bias:geometry:prelu:)")
            }
        }
        let batch = shape[0]
        var out = Tensor.outputStorage(batch * g.outChannels * g.outHeight * g.outWidth)
        data.withUnsafeBufferPointer { px in weight.data.withUnsafeBufferPointer { pw in out.withUnsafeMutableBufferPointer { po in
            if let bias {
                bias.data.withUnsafeBufferPointer { pb in
                    Convolution.forward(input: px.baseAddress!, batch: batch, weights: pw.baseAddress!,
                                        bias: pb.baseAddress!, output: po.baseAddress!, geometry: g, activation: activation)
                }
            } else {
                Convolution.forward(input: px.baseAddress!, batch: batch, weights: pw.baseAddress!, bias: nil,
                                    output: po.baseAddress!, geometry: g, activation: activation)
            }
        } } }
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        return Tensor.result([batch, g.outChannels, g.outHeight, g.outWidth], out, inputs: inputs) { [self] gy in
            var dx: Tensor? = nil, dw: Tensor? = nil, db: Tensor? = nil
            if self.tracked {
                var d = Tensor.zeroedStorage(self.count)
                gy.data.withUnsafeBufferPointer { pg in weight.data.withUnsafeBufferPointer { pw in d.withUnsafeMutableBufferPointer { pd in
                    Convolution.backwardInput(gradOutput: pg.baseAddress!, weights: pw.baseAddress!, batch: batch,
                                              gradInput: pd.baseAddress!, geometry: g)
                } } }
                dx = Tensor(shape: self.shape, data: d)
            }
            if weight.tracked || (bias?.tracked ?? false) {
                var w = Tensor.zeroedStorage(weight.count)
                var b = Tensor.zeroedStorage(g.outChannels)
                gy.data.withUnsafeBufferPointer { pg in self.data.withUnsafeBufferPointer { px in
                    w.withUnsafeMutableBufferPointer { pw in b.withUnsafeMutableBufferPointer { pb in
                        Convolution.backwardWeights(gradOutput: pg.baseAddress!, input: px.baseAddress!, batch: batch,
                                                    gradWeights: pw.baseAddress!, gradBias: pb.baseAddress!, geometry: g)
                    } }
                } }
                dw = Tensor(shape: weight.shape, data: w)
                db = Tensor(shape: [g.outChannels], data: b)
            }
            return bias == nil ? [dx, dw] : [dx, dw, db]
        }
    }
}

extension Tensor {
    /// conv2d of the channel concatenation of `parts` (NCHW, batch 1, same height and width), then `activation`.
    /// Without gradients, and where the geometry takes the im2col path, the convolution reads each part in place,
    /// so a wide concatenation (RIFE's full-resolution block inputs) is never written out; otherwise it is built.
    /// Both give the same bytes.
    public static func conv2d(concatenationOf parts: [Tensor], _ weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                              activation: Activation = .none) -> Tensor {
        let first = parts[0]
        precondition(parts.allSatisfy { $0.rank == 4 && $0.shape[0] == first.shape[0] && $0.shape[2...] == first.shape[2...] },
                     "conv2d: parts \(parts.map(\.shape)) differ off the channel axis")
        let tracked = parts.contains { $0.tracked } || weight.tracked || (bias?.tracked ?? false)
        guard !tracked, first.shape[0] == 1, Convolution.takesSeparatePlanes(g) else {
            return concat(parts).conv2d(weight, bias: bias, geometry: g, activation: activation)
        }
        precondition(parts.map { $0.shape[1] }.reduce(0, +) == g.inChannels && first.shape[2] == g.inHeight
                     && first.shape[3] == g.inWidth && weight.shape == [g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth],
                     "conv2d: parts \(parts.map(\.shape)) and weights \(weight.shape) do not match")
        var out = outputStorage(g.outChannels * g.outHeight * g.outWidth)
        let plane = g.inHeight * g.inWidth
        // Each part's storage stays pinned while its planes are read.
        func withPlanes(_ i: Int, _ planes: inout [UnsafePointer<Float>], _ body: ([UnsafePointer<Float>]) -> Void) {
            if i == parts.count { return body(planes) }
            parts[i].data.withUnsafeBufferPointer { p in
                for c in 0..<parts[i].shape[1] { planes.append(p.baseAddress! + c * plane) }
                withPlanes(i + 1, &planes, body)
            }
        }
        var planes: [UnsafePointer<Float>] = []
        withPlanes(0, &planes) { planes in
            planes.withUnsafeBufferPointer { pp in weight.data.withUnsafeBufferPointer { pw in out.withUnsafeMutableBufferPointer { po in
                if let bias {
                    bias.data.withUnsafeBufferPointer { pb in
                        Convolution.forward(planes: pp.baseAddress!, weights: pw.baseAddress!, bias: pb.baseAddress!,
                                            output: po.baseAddress!, geometry: g, activation: activation)
                    }
                } else {
                    Convolution.forward(planes: pp.baseAddress!, weights: pw.baseAddress!, bias: nil, output: po.baseAddress!,
                                        geometry: g, activation: activation)
                }
            } } }
        }
        return Tensor(shape: [1, g.outChannels, g.outHeight, g.outWidth], data: out)
    }

    /// The same, followed by a PReLU with `slopes` (fused in inference).
    public static func conv2d(concatenationOf parts: [Tensor], _ weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                              prelu slopes: Tensor) -> Tensor {
        if slopes.tracked || parts.contains(where: { $0.tracked }) || weight.tracked || (bias?.tracked ?? false) {
            return concat(parts).conv2d(weight, bias: bias, geometry: g, prelu: slopes)
        }
        return slopes.data.withUnsafeBufferPointer {
            conv2d(concatenationOf: parts, weight, bias: bias, geometry: g, activation: .prelu($0.baseAddress!))
        }
    }
}
