import NN
import Tensor

/// A start for AdaConv's head inside the paper's own layers, so that from the first step every kernel is a narrow
/// blob at a displacement the trunk regresses rather than noise to be sharpened:
/// - conv5's channels 0–3 carry α·(d + r) for the displacements d = (dx, dy) of frame 0 and of frame 1 (pixels; r the
///   kernel's reach keeps them positive through the ReLU), channel 4 a gate g + 1, and channels 5–6 each frame's
///   energy (α/r)·(2r² − |d|²);
/// - conv6 (linear) maps them to each tap's logit, −β·|p|² + 2β·p·d − β·|d|² ± ½g = −β·|p − d|² ± ½g for tap offset
///   p = (u, v): after the softmax each frame's half is a Gaussian exp(−β|p − d|²) centred on d, and the frames share
///   the weight as e^{±g/2}. Without the energy the share would swing with β(|d₀|² − |d₁|²), so the trunk regresses it
///   beside d (the teacher supervises both).
/// With d = 0 and g = 0 the first kernel blends the frames. conv5's decoder channels keep a tenth of their random
/// weights, and conv6's other inputs `residualScale` of theirs, so training can still reshape the kernels.
extension AdaConv {
    /// conv5 channels the decoder uses: four displacements, the gate, two energies.
    public static let decoderChannels = 7

    public func initialiseKernelsAsDisplacementDecoder(alpha: Float = 1 / 16, beta: Float = 1, residualScale: Float = 0.01) {
        precondition(alpha > 0 && beta > 0, "alpha and beta must be positive")
        let k = configuration.kernelSize, r = k / 2, reach = Float(r), head = configuration.headWidth
        let energyScale = alpha / reach
        guard let bias5 = conv5.bias, let bias6 = conv6.bias, head >= Self.decoderChannels else {
            preconditionFailure("AdaConv: biased conv5 and conv6, conv5 of \(Self.decoderChannels) channels or more")
        }
        let plane5 = conv5.weight.count / conv5.weight.shape[0]
        for ch in 0..<Self.decoderChannels {
            for i in 0..<plane5 { conv5.weight.data[ch * plane5 + i] *= 0.1 }
            bias5.data[ch] = ch < 4 ? alpha * reach : ch == 4 ? 1 : energyScale * 2 * reach * reach
        }
        for i in conv6.weight.data.indices { conv6.weight.data[i] *= residualScale }
        for f in 0..<2 {
            let sign: Float = f == 0 ? 0.5 : -0.5
            for i in 0..<k { for j in 0..<k {
                let tap = f * k * k + i * k + j, (u, v) = (Float(j - r), Float(i - r))
                let row = tap * head
                for ch in 0..<Self.decoderChannels { conv6.weight.data[row + ch] = 0 }
                conv6.weight.data[row + 2 * f] = 2 * beta * u / alpha
                conv6.weight.data[row + 2 * f + 1] = 2 * beta * v / alpha
                conv6.weight.data[row + 4] = sign
                conv6.weight.data[row + 5 + f] = beta / energyScale
                bias6.data[tap] = -beta * (u * u + v * v) - 2 * beta * reach * (u + v) - sign - 2 * beta * reach * reach
            } }
        }
    }

    /// conv5's decoder channels as displacements in pixels, [N, 4, H, W] (dx, dy for frame 0 then frame 1), for a
    /// network started with `initialiseKernelsAsDisplacementDecoder(alpha:)`.
    public static func displacements(fromFeatures features: Tensor, alpha: Float, kernelSize k: Int) -> Tensor {
        features.slice(axis: 1, 0..<4) * (1 / alpha) + (-Float(k / 2))
    }

    /// conv5's energy channels as |d|² per frame, [N, 2, H, W] (square pixels).
    public static func energies(fromFeatures features: Tensor, alpha: Float, kernelSize k: Int) -> Tensor {
        let reach = Float(k / 2)
        return features.slice(axis: 1, 5..<7) * (-reach / alpha) + 2 * reach * reach
    }
}
