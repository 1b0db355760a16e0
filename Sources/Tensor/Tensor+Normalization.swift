import Kernels

extension Tensor {
    /// Batch normalisation with batch statistics (training): (x − μ)/√(σ² + eps)·weight + bias per channel of NCHW,
    /// μ and the biased σ² over N, H and W, which are returned too (for the running statistics). One operation with
    /// its own backward (`BatchNormalization`), the same function as its composition from elementwise operations.
    public func batchNormalized(weight: Tensor, bias: Tensor, eps: Float) -> (output: Tensor, mean: [Float], variance: [Float]) {
        let (n, c) = (shape[0], shape[1]), plane = count / max(1, n * c)
        precondition(rank == 4 && weight.count == c && bias.count == c, "batchNormalized: \(shape) with \(weight.count) weights")
        var mean = [Float](repeating: 0, count: c), variance = mean
        data.withUnsafeBufferPointer { px in mean.withUnsafeMutableBufferPointer { pm in variance.withUnsafeMutableBufferPointer { pv in
            BatchNormalization.statistics(px.baseAddress!, batch: n, channels: c, plane: plane, mean: pm.baseAddress!, variance: pv.baseAddress!)
        } } }
        let invStd = variance.map { 1 / ($0 + eps).squareRoot() }
        var out = Tensor.outputStorage(count)
        data.withUnsafeBufferPointer { px in out.withUnsafeMutableBufferPointer { po in
            BatchNormalization.normalize(px.baseAddress!, batch: n, channels: c, plane: plane, mean: mean, invStd: invStd,
                                         weight: weight.data, bias: bias.data, po.baseAddress!)
        } }
        let y = Tensor.result(shape, out, inputs: [self, weight, bias]) { [self] g in
            var dx = Tensor.outputStorage(self.count), dw = [Float](repeating: 0, count: c), db = dw
            g.data.withUnsafeBufferPointer { pg in self.data.withUnsafeBufferPointer { px in
                dx.withUnsafeMutableBufferPointer { pdx in dw.withUnsafeMutableBufferPointer { pdw in db.withUnsafeMutableBufferPointer { pdb in
                    BatchNormalization.backward(pg.baseAddress!, px.baseAddress!, batch: n, channels: c, plane: plane, mean: mean,
                                                invStd: invStd, weight: weight.data, dx: pdx.baseAddress!, dWeight: pdw.baseAddress!,
                                                dBias: pdb.baseAddress!)
                } } }
            } }
            return [Tensor(shape: self.shape, data: dx), Tensor(shape: weight.shape, data: dw), Tensor(shape: bias.shape, data: db)]
        }
        return (y, mean, variance)
    }
}
