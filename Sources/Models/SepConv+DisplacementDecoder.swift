import NN
import Tensor

/// A start for SepConv's kernel heads that turns each head into a displacement regressor followed by a fixed-form
/// decoder, within the paper's own layers (conv–ReLU–conv–ReLU–conv–ReLU–upsample–conv):
/// - the second ReLU's channel 0 carries α·(d + r), one displacement d (pixels) per pixel and head;
/// - the third convolution turns it into K ramps R(j) = relu(α(d + r) − αj), j = 0 … K − 1;
/// - the last one takes second differences, s·(R(i − 1) − 2R(i) + R(i + 1)) with s = √½ / α, which is a bilinear tap
///   pair of weight √½ at d (a tent centred on tap r + d).
/// Filtering with such kernels is warping each frame by d and weighting it ½, so the trunk only has to regress one
/// displacement per head, as a flow network does, and a teacher's flow can supervise it directly. Random kernel heads
/// instead must discover peaked kernels at the right tap from the frames alone, which the compact model barely does.
extension SepConv {
    /// The heads in the teacher flow's channel order: F_t→0 (x, y) for the first frame, F_t→1 (x, y) for the second.
    var headsByFlowChannel: [Sequential] { [horizontal1, vertical1, horizontal2, vertical2] }

    /// Rewrites the last three convolutions of every head into the displacement decoder (see above). The trunk and
    /// the heads' first convolution are kept; the second convolution's channel 0 keeps a tenth of its weights and
    /// starts at d = 0 (a blend), so training moves d from there. `alpha` scales the displacement channel: one unit of
    /// the channel is 1/α pixels, so a small α lets steps of the learning rate's size cover large motions.
    public func initialiseKernelsAsDisplacementDecoder(alpha: Float = 1 / 16) {
        precondition(alpha > 0, "alpha must be positive")
        let k = configuration.kernelSize, r = k / 2, s = Float(0.5).squareRoot() / alpha
        for head in headsByFlowChannel {
            guard head.layers.count == 8, let second = head.layers[2] as? Conv2d, let ramps = head.layers[4] as? Conv2d,
                  let taps = head.layers[7] as? Conv2d, let secondBias = second.bias, let rampBias = ramps.bias,
                  let tapBias = taps.bias else { preconditionFailure("SepConv head: conv–ReLU–conv–ReLU–conv–ReLU–up–conv") }
            let plane = second.weight.count / second.weight.shape[0]
            for i in 0..<plane { second.weight.data[i] *= 0.1 }
            secondBias.data[0] = Float(r) * alpha

            let width = ramps.weight.shape[1]
            for i in ramps.weight.data.indices { ramps.weight.data[i] = 0 }
            for j in 0..<k {
                ramps.weight.data[((j * width + 0) * 3 + 1) * 3 + 1] = 1
                rampBias.data[j] = -Float(j) * alpha
            }

            for i in taps.weight.data.indices { taps.weight.data[i] = 0 }
            for i in 0..<k { tapBias.data[i] = 0 }
            func centre(_ out: Int, _ input: Int) -> Int { ((out * k + input) * 3 + 1) * 3 + 1 }
            for i in 0..<k {
                // R(−1) is R(0) + α (the ramp's next value) and R(K) is 0: no ramp reaches past the last tap.
                if i >= 1 { taps.weight.data[centre(i, i - 1)] += s } else { taps.weight.data[centre(i, 0)] += s; tapBias.data[i] += s * alpha }
                taps.weight.data[centre(i, i)] -= 2 * s
                if i + 1 < k { taps.weight.data[centre(i, i + 1)] += s }
            }
        }
    }

    /// The kernels and, per head, the displacement its decoder channel encodes, d = channel / α − r, in pixels at the
    /// heads' half resolution ([N, 1, H/2, W/2]; teacher-flow channel order: horizontal1, vertical1, horizontal2,
    /// vertical2). Only meaningful for heads started with `initialiseKernelsAsDisplacementDecoder(alpha:)`.
    public func kernelsAndDisplacements(_ first: Tensor, _ second: Tensor, alpha: Float) -> (Kernels, [Tensor]) {
        let combined = trunk(first, second), r = Float(configuration.kernelSize / 2)
        var kernels: [Tensor] = [], displacements: [Tensor] = []
        for head in headsByFlowChannel {
            let hidden = Sequential(Array(head.layers[0..<4]))(combined)
            displacements.append(hidden.slice(axis: 1, 0..<1) * (1 / alpha) + (-r))
            kernels.append(Sequential(Array(head.layers[4...]))(hidden))
        }
        return (Kernels(vertical1: kernels[1], horizontal1: kernels[0], vertical2: kernels[3], horizontal2: kernels[2]), displacements)
    }
}
