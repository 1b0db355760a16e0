import Foundation
import Tensor

/// Batch normalisation over N, H, W per channel: batch statistics while training (updating the running ones with
/// `momentum`, PyTorch's convention), running statistics in inference.
public final class BatchNorm2d: Layer {
    /// Replaceable (a checkpoint or a test may supply its own tensors).
    public var weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor
    public let eps: Float, momentum: Float
    public var training = true

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        weight = Tensor(shape: [channels], data: [Float](repeating: 1, count: channels), requiresGrad: true)
        bias = Tensor(zeros: [channels], requiresGrad: true)
        runningMean = Tensor(zeros: [channels]); runningVar = Tensor(repeating: 1, shape: [channels])
        self.eps = eps; self.momentum = momentum
    }

    public var ownTensors: [(String, Tensor)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)]
    }
    public var bufferKeys: Set<String> { ["running_mean", "running_var"] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let c = x.shape[1], shape = [1, c, 1, 1]
        if !training {
            let inv = Tensor(shape: shape, data: (0..<c).map { 1 / (runningVar.data[$0] + eps).squareRoot() })
            return (x - Tensor(shape: shape, data: runningMean.data)) * inv * weight.reshaped(shape) + bias.reshaped(shape)
        }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3]), m = Float(n * h * w)
        let (y, mean, variance) = x.batchNormalized(weight: weight, bias: bias, eps: eps)
        // Running statistics use the unbiased variance, as PyTorch.
        for i in 0..<c {
            runningMean.data[i] = (1 - momentum) * runningMean.data[i] + momentum * mean[i]
            runningVar.data[i] = (1 - momentum) * runningVar.data[i] + momentum * variance[i] * m / max(1, m - 1)
        }
        return y
    }
}

