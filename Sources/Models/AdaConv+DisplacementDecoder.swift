import NN
import Tensor

/// A start for AdaConv's head inside the paper's own layers, so that from the first step every kernel is a sharp blob
/// at a displacement the trunk regresses, rather than noise to be sharpened:
/// - for each of the four displacement components (x and y of frame 0, then of frame 1), K channels of conv5 carry the
///   ramps α·relu(s − j), j = 0 … K − 1, of s = d + r (d in pixels, r = ⌊K/2⌋ the reach): the same weights with the
///   biases stepped by α, so ramp 0 is the displacement itself; channel 4K is a gate g + 1 between the frames;
/// - conv6 (linear) sums ramps into each tap's logit: the piecewise-linear function of s through −β(t − s)² at every
///   whole s (slope β(2t − 1) from s = 0, then second differences −2β), for the tap's column t against its frame's x
///   ramps and its row against the y ramps, plus ±g/2.
/// Between whole values of s the interpolated parabola lies below the true one by the same β·f(1 − f) for every tap
/// (f the fraction of s), so each frame's half is exactly the sampled Gaussian exp(−β|p − d|²) around d; the frames'
/// shares carry a factor e^{−β·f(1−f)} each, at most e^{β/4} apart, and the gate can learn the rest. (A decoder with
/// logits linear in d needs β|d|² per frame, which made the shares swing with β(|d₀|² − |d₁|²); runs/adaconv-quadratic.)
/// d = 0 and g = 0 start as a blend. conv5's decoder channels keep a tenth of one random set of weights per component;
/// conv6's other inputs keep `residualScale` of theirs, so training can still reshape the kernels.
extension AdaConv {
    /// conv5 channels the decoder uses for a kernel of side k: 4k ramps and the gate.
    public static func decoderChannels(kernelSize k: Int) -> Int { 4 * k + 1 }

    public func initialiseKernelsAsDisplacementDecoder(alpha: Float = 1 / 16, beta: Float = 3, residualScale: Float = 0.01) {
        precondition(alpha > 0 && beta > 0, "alpha and beta must be positive")
        let k = configuration.kernelSize, head = configuration.headWidth, channels = Self.decoderChannels(kernelSize: k)
        guard let bias5 = conv5.bias, let bias6 = conv6.bias, head >= channels else {
            preconditionFailure("AdaConv: biased conv5 and conv6, conv5 of \(channels) channels or more")
        }
        let plane5 = conv5.weight.count / conv5.weight.shape[0]
        for component in 0..<4 {
            let first = component * k
            for i in 0..<plane5 { conv5.weight.data[first * plane5 + i] *= 0.1 }
            for j in 0..<k {
                let ch = first + j
                for i in 0..<plane5 { conv5.weight.data[ch * plane5 + i] = conv5.weight.data[first * plane5 + i] }
                bias5.data[ch] = alpha * Float(k / 2 - j)
            }
        }
        let gate = 4 * k
        for i in 0..<plane5 { conv5.weight.data[gate * plane5 + i] *= 0.1 }
        bias5.data[gate] = 1

        for i in conv6.weight.data.indices { conv6.weight.data[i] *= residualScale }
        /// The weight of ramp j in the logit of tap t: the slope from s = 0, then the second differences.
        func rampWeight(_ t: Int, _ j: Int) -> Float { (j == 0 ? beta * Float(2 * t - 1) : -2 * beta) / alpha }
        for f in 0..<2 {
            let sign: Float = f == 0 ? 0.5 : -0.5
            let xRamps = (2 * f) * k, yRamps = (2 * f + 1) * k
            for row in 0..<k { for col in 0..<k {
                let tap = f * k * k + row * k + col, base = tap * head
                for ch in 0..<channels { conv6.weight.data[base + ch] = 0 }
                for j in 0..<k {
                    conv6.weight.data[base + xRamps + j] = rampWeight(col, j)
                    conv6.weight.data[base + yRamps + j] = rampWeight(row, j)
                }
                conv6.weight.data[base + gate] = sign
                bias6.data[tap] = -beta * Float(col * col + row * row) - sign
            } }
        }
    }

    /// Keeps the decoder's ramps one function of the displacement while training (ramp j = ramp 0 shifted by α·j): the
    /// ramps' weights and biases are one parameter per component, stored as the paper's separate channels. Call
    /// `sumRampGradients` after the backward pass (the exact gradient of the shared parameter, in ramp 0) and
    /// `copyRamps(alpha:)` after the update.
    public func sumRampGradients() {
        let k = configuration.kernelSize, plane = conv5.weight.count / conv5.weight.shape[0]
        guard let gw = conv5.weight.grad, let bias = conv5.bias, let gb = bias.grad else { return }
        for component in 0..<4 {
            let first = component * k
            for j in 1..<k {
                for i in 0..<plane { gw.data[first * plane + i] += gw.data[(first + j) * plane + i] }
                gb.data[first] += gb.data[first + j]
            }
        }
    }

    public func copyRamps(alpha: Float) {
        let k = configuration.kernelSize, plane = conv5.weight.count / conv5.weight.shape[0]
        guard let bias = conv5.bias else { return }
        for component in 0..<4 {
            let first = component * k
            for j in 1..<k {
                for i in 0..<plane { conv5.weight.data[(first + j) * plane + i] = conv5.weight.data[first * plane + i] }
                bias.data[first + j] = bias.data[first] - alpha * Float(j)
            }
        }
    }

    /// The ramp-0 channels of conv5 as displacements in pixels, [N, 4, H, W] (dx, dy for frame 0 then frame 1), for a
    /// network started with `initialiseKernelsAsDisplacementDecoder(alpha:)`.
    public static func displacements(fromFeatures features: Tensor, alpha: Float, kernelSize k: Int) -> Tensor {
        Tensor.concat((0..<4).map { features.slice(axis: 1, ($0 * k)..<($0 * k + 1)) }) * (1 / alpha) + (-Float(k / 2))
    }
}
