import Kernels

extension Tensor {
    /// SepConv's per-pixel separable filter: self [N, C, H+K−1, W+K−1] (already padded), vertical and horizontal
    /// kernels [N, K, H, W] → [N, C, H, W].
    public func separableLocalConv(vertical v: Tensor, horizontal hz: Tensor) -> Tensor {
        let (n, c, k, h, w) = (shape[0], shape[1], v.shape[1], v.shape[2], v.shape[3])
        precondition(hz.shape == v.shape && shape[2] == h + k - 1 && shape[3] == w + k - 1, "separable local conv: shapes \(shape), \(v.shape), \(hz.shape)")
        var out = Tensor.zeroedStorage(n * c * h * w)
        data.withUnsafeBufferPointer { pi in v.data.withUnsafeBufferPointer { pv in hz.data.withUnsafeBufferPointer { ph in
            out.withUnsafeMutableBufferPointer { po in
                LocalConvolution.separable(pi.baseAddress!, vertical: pv.baseAddress!, horizontal: ph.baseAddress!, batch: n,
                                           channels: c, height: h, width: w, kernel: k, into: po.baseAddress!)
            }
        } } }
        return Tensor.result([n, c, h, w], out, inputs: [self, v, hz]) { [self] g in
            var di = Tensor.zeroedStorage(self.count), dv = Tensor.zeroedStorage(v.count), dh = dv
            g.data.withUnsafeBufferPointer { pg in self.data.withUnsafeBufferPointer { pi in v.data.withUnsafeBufferPointer { pv in
                hz.data.withUnsafeBufferPointer { ph in di.withUnsafeMutableBufferPointer { gi in dv.withUnsafeMutableBufferPointer { gv in
                    dh.withUnsafeMutableBufferPointer { gh in
                        LocalConvolution.separableBackward(pg.baseAddress!, input: pi.baseAddress!, vertical: pv.baseAddress!,
                                                           horizontal: ph.baseAddress!, batch: n, channels: c, height: h, width: w,
                                                           kernel: k, gradInput: gi.baseAddress!, gradVertical: gv.baseAddress!,
                                                           gradHorizontal: gh.baseAddress!)
                    }
                } } }
            } } }
            return [Tensor(shape: self.shape, data: di), Tensor(shape: v.shape, data: dv), Tensor(shape: hz.shape, data: dh)]
        }
    }

    /// AdaConv's per-pixel K×K filter: self [N, C, H+K−1, W+K−1], kernels [N, K·K, H, W] → [N, C, H, W].
    public func denseLocalConv(kernels kt: Tensor, size k: Int) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], kt.shape[2], kt.shape[3])
        precondition(kt.shape[1] == k * k && shape[2] == h + k - 1 && shape[3] == w + k - 1, "dense local conv: shapes \(shape), \(kt.shape)")
        var out = Tensor.zeroedStorage(n * c * h * w)
        data.withUnsafeBufferPointer { pi in kt.data.withUnsafeBufferPointer { pk in out.withUnsafeMutableBufferPointer { po in
            LocalConvolution.dense(pi.baseAddress!, kernels: pk.baseAddress!, batch: n, channels: c, height: h, width: w, kernel: k,
                                   into: po.baseAddress!)
        } } }
        return Tensor.result([n, c, h, w], out, inputs: [self, kt]) { [self] g in
            var di = Tensor.zeroedStorage(self.count), dk = Tensor.zeroedStorage(kt.count)
            g.data.withUnsafeBufferPointer { pg in self.data.withUnsafeBufferPointer { pi in kt.data.withUnsafeBufferPointer { pk in
                di.withUnsafeMutableBufferPointer { gi in dk.withUnsafeMutableBufferPointer { gk in
                    LocalConvolution.denseBackward(pg.baseAddress!, input: pi.baseAddress!, kernels: pk.baseAddress!, batch: n,
                                                   channels: c, height: h, width: w, kernel: k, gradInput: gi.baseAddress!,
                                                   gradKernels: gk.baseAddress!)
                } }
            } } }
            return [Tensor(shape: self.shape, data: di), Tensor(shape: kt.shape, data: dk)]
        }
    }

    /// PWC-Net cost volume between two feature maps: [N, (2d+1)², H, W].
    public func correlation(_ other: Tensor, maxDisplacement d: Int) -> Tensor {
        precondition(shape == other.shape && rank == 4)
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]), side = 2 * d + 1
        var out = Tensor.zeroedStorage(n * side * side * h * w)
        data.withUnsafeBufferPointer { pa in other.data.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { po in
            Correlation.forward(pa.baseAddress!, pb.baseAddress!, batch: n, channels: c, height: h, width: w, maxDisplacement: d,
                                into: po.baseAddress!)
        } } }
        return Tensor.result([n, side * side, h, w], out, inputs: [self, other]) { [self] g in
            var da = Tensor.zeroedStorage(self.count), db = da
            g.data.withUnsafeBufferPointer { pg in self.data.withUnsafeBufferPointer { pa in other.data.withUnsafeBufferPointer { pb in
                da.withUnsafeMutableBufferPointer { ga in db.withUnsafeMutableBufferPointer { gb in
                    Correlation.backward(pg.baseAddress!, pa.baseAddress!, pb.baseAddress!, batch: n, channels: c, height: h, width: w,
                                         maxDisplacement: d, gradA: ga.baseAddress!, gradB: gb.baseAddress!)
                } }
            } } }
            return [Tensor(shape: self.shape, data: da), Tensor(shape: other.shape, data: db)]
        }
    }

    /// Summation splatting (forward warping) by a flow [N, 2, H, W].
    public func splatted(by flow: Tensor) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        precondition(flow.shape == [n, 2, h, w], "splat: flow must be [N, 2, H, W]")
        var out = Tensor.zeroedStorage(count)
        data.withUnsafeBufferPointer { pi in flow.data.withUnsafeBufferPointer { pf in out.withUnsafeMutableBufferPointer { po in
            Splatting.forward(pi.baseAddress!, flow: pf.baseAddress!, batch: n, channels: c, height: h, width: w, into: po.baseAddress!)
        } } }
        return Tensor.result(shape, out, inputs: [self, flow]) { [self] g in
            var di = Tensor.zeroedStorage(self.count), df = Tensor.zeroedStorage(flow.count)
            g.data.withUnsafeBufferPointer { pg in self.data.withUnsafeBufferPointer { pi in flow.data.withUnsafeBufferPointer { pf in
                di.withUnsafeMutableBufferPointer { gi in df.withUnsafeMutableBufferPointer { gf in
                    Splatting.backward(pg.baseAddress!, input: pi.baseAddress!, flow: pf.baseAddress!, batch: n, channels: c, height: h,
                                       width: w, gradInput: gi.baseAddress!, gradFlow: gf.baseAddress!)
                } }
            } } }
            return [Tensor(shape: self.shape, data: di), Tensor(shape: flow.shape, data: df)]
        }
    }

    /// Average splatting: splat the samples and their weights, then divide (holes stay 0).
    public func averageSplatted(by flow: Tensor, eps: Float = 1e-7) -> Tensor {
        let ones = Tensor(repeating: 1, shape: [shape[0], 1, shape[2], shape[3]])
        let both = Tensor.concat([self, ones]).splatted(by: flow)
        let c = shape[1]
        return both.slice(axis: 1, 0..<c) / (both.slice(axis: 1, c..<(c + 1)) + eps)
    }

    /// Softmax splatting with importance metric Z [N, 1, H, W]: Σ exp(Z)·I / Σ exp(Z).
    public func softmaxSplatted(by flow: Tensor, metric z: Tensor, eps: Float = 1e-7) -> Tensor {
        let weight = z.exp()
        let both = Tensor.concat([self * weight, weight]).splatted(by: flow)
        let c = shape[1]
        return both.slice(axis: 1, 0..<c) / (both.slice(axis: 1, c..<(c + 1)) + eps)
    }
}

extension Tensor {
    /// The mean census (ternary) distance between this one-channel image [N, 1, H, W] and `other`: over every pixel
    /// and every other position of the `patch`×`patch` window (replicate padding), D / (D + 0.1) with
    /// D = (tA − tB)² and t = d / √(d² + 0.81) of the difference d to the centre (`Census`, one fused kernel).
    public func censusDistance(_ other: Tensor, patch: Int = 7) -> Tensor {
        precondition(rank == 4 && shape[1] == 1 && other.shape == shape, "censusDistance: one-channel images of one shape, not \(shape) and \(other.shape)")
        let (n, h, w) = (shape[0], shape[2], shape[3]), count = Float(n * h * w * (patch * patch - 1))
        let sum = data.withUnsafeBufferPointer { pa in other.data.withUnsafeBufferPointer { pb in
            Census.distanceSum(pa.baseAddress!, pb.baseAddress!, batch: n, height: h, width: w, patch: patch)
        } }
        return Tensor.result([], [Float(sum) / count], inputs: [self, other]) { [self] g in
            var ga = self.tracked ? Tensor.outputStorage(self.count) : [], gb = other.tracked ? Tensor.outputStorage(other.count) : []
            self.data.withUnsafeBufferPointer { pa in other.data.withUnsafeBufferPointer { pb in
                ga.withUnsafeMutableBufferPointer { da in gb.withUnsafeMutableBufferPointer { db in
                    Census.distanceBackward(pa.baseAddress!, pb.baseAddress!, batch: n, height: h, width: w, patch: patch,
                                            scale: g.scalar / count, gradA: da.isEmpty ? nil : da.baseAddress,
                                            gradB: db.isEmpty ? nil : db.baseAddress)
                } }
            } }
            return [self.tracked ? Tensor(shape: self.shape, data: ga) : nil, other.tracked ? Tensor(shape: other.shape, data: gb) : nil]
        }
    }
}
