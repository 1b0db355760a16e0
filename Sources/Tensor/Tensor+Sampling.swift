import Kernels

extension Tensor {
    /// Resizes an NCHW tensor to (height, width).
    public func resized(height oh: Int, width ow: Int, mode: Resize.Mode) -> Tensor {
        precondition(rank == 4)
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        // Every mode maps a same-size grid onto itself exactly.
        if oh == h && ow == w && !tracked { return self }
        var out = Tensor.outputStorage(n * c * oh * ow)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Resize.forward(px.baseAddress!, planes: n * c, h: h, w: w, into: po.baseAddress!, oh: oh, ow: ow, mode: mode)
        } }
        return Tensor.result([n, c, oh, ow], out, inputs: [self]) { g in
            var d = Tensor.zeroedStorage(n * c * h * w)
            g.data.withUnsafeBufferPointer { pg in d.withUnsafeMutableBufferPointer { pd in
                Resize.backward(pg.baseAddress!, planes: n * c, oh: oh, ow: ow, into: pd.baseAddress!, h: h, w: w, mode: mode)
            } }
            return [Tensor(shape: [n, c, h, w], data: d)]
        }
    }

    /// self + update resized to self's size × scale, in one pass when no gradient is recorded (same bytes as the
    /// three operations): RIFE adds each block's low-resolution flow update to the full-resolution flow so.
    public func addingResized(_ update: Tensor, scale: Float, mode: Resize.Mode) -> Tensor {
        precondition(rank == 4 && update.rank == 4 && update.shape[0...1] == shape[0...1])
        let (n, c, oh, ow) = (shape[0], shape[1], shape[2], shape[3]), (h, w) = (update.shape[2], update.shape[3])
        if tracked || update.tracked || (h == oh && w == ow) { return self + update.resized(height: oh, width: ow, mode: mode) * scale }
        var out = Tensor.outputStorage(count)
        update.data.withUnsafeBufferPointer { pu in data.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { po in
            Resize.forward(pu.baseAddress!, planes: n * c, h: h, w: w, into: po.baseAddress!, oh: oh, ow: ow, mode: mode,
                           scale: scale, adding: pb.baseAddress!)
        } } }
        return Tensor(shape: shape, data: out)
    }

    /// The same as resizing to (viaHeight, viaWidth) and then to (height, width), in one pass without the
    /// intermediate when no gradient is recorded (equal up to rounding; see `Resize.forward(…via:…)`).
    public func resized(height oh: Int, width ow: Int, via vh: Int, _ vw: Int, mode: Resize.Mode) -> Tensor {
        precondition(rank == 4)
        if tracked { return resized(height: vh, width: vw, mode: mode).resized(height: oh, width: ow, mode: mode) }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        if (vh == h && vw == w) || (vh == oh && vw == ow) { return resized(height: oh, width: ow, mode: mode) }
        var out = Tensor.outputStorage(n * c * oh * ow)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            Resize.forward(px.baseAddress!, planes: n * c, h: h, w: w, into: po.baseAddress!, oh: oh, ow: ow, via: vh, vw, mode: mode)
        } }
        return Tensor(shape: [n, c, oh, ow], data: out)
    }

    /// Samples an NCHW tensor at pixel positions xs, ys ([N][points] each, in one tensor [N, 2, points...]).
    /// `positions` is the tensor the positions were computed from; `positionGrad` maps the positions' gradient
    /// onto it.
    func sampled(xs: Tensor, ys: Tensor, outShape: [Int], padding: Sampling.Padding, positions: Tensor,
                 positionGrad: @escaping (Tensor, Tensor) -> Tensor) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let points = xs.count / n
        var out = Tensor.outputStorage(n * c * points)
        data.withUnsafeBufferPointer { px in xs.data.withUnsafeBufferPointer { sx in ys.data.withUnsafeBufferPointer { sy in
            out.withUnsafeMutableBufferPointer { po in
                Sampling.forward(px.baseAddress!, batch: n, channels: c, h: h, w: w, xs: sx.baseAddress!, ys: sy.baseAddress!,
                                 points: points, padding: padding, into: po.baseAddress!)
            }
        } } }
        return Tensor.result(outShape, out, inputs: [self, positions]) { [self] g in
            var dIn = Tensor.zeroedStorage(self.count)
            var dX = Tensor.zeroedStorage(n * points), dY = dX
            g.data.withUnsafeBufferPointer { pg in self.data.withUnsafeBufferPointer { px in
                xs.data.withUnsafeBufferPointer { sx in ys.data.withUnsafeBufferPointer { sy in
                    dIn.withUnsafeMutableBufferPointer { pd in dX.withUnsafeMutableBufferPointer { gx in dY.withUnsafeMutableBufferPointer { gy in
                        Sampling.backward(pg.baseAddress!, px.baseAddress!, batch: n, channels: c, h: h, w: w,
                                          xs: sx.baseAddress!, ys: sy.baseAddress!, points: points, padding: padding,
                                          gradInput: pd.baseAddress!, gradX: gx.baseAddress!, gradY: gy.baseAddress!)
                    } } }
                } }
            } }
            return [Tensor(shape: self.shape, data: dIn),
                    positionGrad(Tensor(shape: xs.shape, data: dX), Tensor(shape: ys.shape, data: dY))]
        }
    }

    /// Backward warping by a flow field [N, 2, H, W] in pixels (channel 0: x, channel 1: y): out(p) = self(p + flow(p)),
    /// bilinear, with border or zero padding.
    /// Warping by channels `first` (x) and `first + 1` (y) of a flow tensor [N, C, H, W], read in place without
    /// gradients (sliced out when they are recorded).
    public func warped(byChannelsOf flow: Tensor, from first: Int, padding: Sampling.Padding = .border) -> Tensor {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        precondition(rank == 4 && flow.rank == 4 && flow.shape[0] == n && flow.shape[1] >= first + 2 && flow.shape[2] == h
                     && flow.shape[3] == w, "warp: flow \(flow.shape) has no channels \(first)…\(first + 1) for \(shape)")
        if tracked || flow.tracked { return warped(by: flow.slice(axis: 1, first..<(first + 2)), padding: padding) }
        var out = Tensor.outputStorage(count)
        data.withUnsafeBufferPointer { px in flow.data.withUnsafeBufferPointer { pf in out.withUnsafeMutableBufferPointer { po in
            Sampling.warp(px.baseAddress!, batch: n, channels: c, h: h, w: w, flow: pf.baseAddress! + first * h * w,
                          flowBatchStride: flow.shape[1] * h * w, padding: padding, into: po.baseAddress!)
        } } }
        return Tensor(shape: shape, data: out)
    }

    /// `warped(byChannelsOf:from:)` of several tensors by the same flow channels: without gradients in one pass,
    /// each point's corners and weights found once for all of them (same bytes as warping each).
    public static func warped(_ tensors: [Tensor], byChannelsOf flow: Tensor, from first: Int,
                              padding: Sampling.Padding = .border) -> [Tensor] {
        if tensors.count < 2 || flow.tracked || tensors.contains(where: { $0.tracked }) {
            return tensors.map { $0.warped(byChannelsOf: flow, from: first, padding: padding) }
        }
        let (n, h, w) = (flow.shape[0], flow.shape[2], flow.shape[3])
        precondition(tensors.allSatisfy { $0.rank == 4 && $0.shape[0] == n && $0.shape[2] == h && $0.shape[3] == w }
                     && flow.shape[1] >= first + 2, "warp: flow \(flow.shape) does not fit \(tensors.map(\.shape))")
        let outs = tensors.map { Tensor(shape: $0.shape, data: Tensor.outputStorage($0.count)) }
        // Storage stays pinned while the kernel runs: nested scopes, one per tensor.
        func pinned(_ i: Int, _ sources: [UnsafePointer<Float>], _ outputs: [UnsafeMutablePointer<Float>]) {
            if i == tensors.count {
                flow.data.withUnsafeBufferPointer { pf in
                    Sampling.warp(sources, channels: tensors.map { $0.shape[1] }, batch: n, h: h, w: w,
                                  flow: pf.baseAddress! + first * h * w, flowBatchStride: flow.shape[1] * h * w,
                                  padding: padding, into: outputs)
                }
                return
            }
            tensors[i].data.withUnsafeBufferPointer { px in outs[i].data.withUnsafeMutableBufferPointer { po in
                pinned(i + 1, sources + [px.baseAddress!], outputs + [po.baseAddress!])
            } }
        }
        pinned(0, [], [])
        return outs
    }

    public func warped(by flow: Tensor, padding: Sampling.Padding = .border) -> Tensor {
        precondition(rank == 4 && flow.shape == [shape[0], 2, shape[2], shape[3]], "warp: flow must be [N, 2, H, W]")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        // No gradient wanted: one pass, positions computed on the fly (same bytes as the path below).
        if !tracked && !flow.tracked { return warped(byChannelsOf: flow, from: 0, padding: padding) }
        var xs = Tensor.zeroedStorage(n * h * w), ys = xs
        for b in 0..<n { for y in 0..<h { for x in 0..<w {
            let p = y * w + x
            xs[b * h * w + p] = Float(x) + flow.data[(b * 2) * h * w + p]
            ys[b * h * w + p] = Float(y) + flow.data[(b * 2 + 1) * h * w + p]
        } } }
        let tx = Tensor(shape: [n, h * w], data: xs), ty = Tensor(shape: [n, h * w], data: ys)
        return sampled(xs: tx, ys: ty, outShape: [n, c, h, w], padding: padding, positions: flow) { gx, gy in
            var d = Tensor.zeroedStorage(n * 2 * h * w)
            for b in 0..<n {
                for p in 0..<(h * w) { d[b * 2 * h * w + p] = gx.data[b * h * w + p]; d[(b * 2 + 1) * h * w + p] = gy.data[b * h * w + p] }
            }
            return Tensor(shape: [n, 2, h, w], data: d)
        }
    }

    /// PyTorch `grid_sample` (bilinear): grid [N, Ho, Wo, 2] of normalised (x, y) in [−1, 1].
    public func gridSampled(_ grid: Tensor, alignCorners: Bool, padding: Sampling.Padding = .zeros) -> Tensor {
        precondition(rank == 4 && grid.rank == 4 && grid.shape[0] == shape[0] && grid.shape[3] == 2)
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = (grid.shape[1], grid.shape[2]), points = oh * ow
        let sx: Float = alignCorners ? Float(w - 1) / 2 : Float(w) / 2
        let sy: Float = alignCorners ? Float(h - 1) / 2 : Float(h) / 2
        var xs = Tensor.zeroedStorage(n * points), ys = xs
        for i in 0..<(n * points) {
            let gx = grid.data[2 * i], gy = grid.data[2 * i + 1]
            xs[i] = alignCorners ? (gx + 1) * sx : ((gx + 1) * Float(w) - 1) / 2
            ys[i] = alignCorners ? (gy + 1) * sy : ((gy + 1) * Float(h) - 1) / 2
        }
        let tx = Tensor(shape: [n, points], data: xs), ty = Tensor(shape: [n, points], data: ys)
        return sampled(xs: tx, ys: ty, outShape: [n, c, oh, ow], padding: padding, positions: grid) { gx, gy in
            var d = Tensor.zeroedStorage(grid.count)
            for i in 0..<(n * points) { d[2 * i] = gx.data[i] * sx; d[2 * i + 1] = gy.data[i] * sy }
            return Tensor(shape: grid.shape, data: d)
        }
    }
}
