import Frames
import Kernels
import NN
import Tensor

/// Deep Voxel Flow (Liu et al., ICCV 2017): a fully convolutional encoder–decoder (convolution + batch norm + ReLU,
/// max pooling, bilinear upsampling, skip connections as in the paper's figure) predicts a voxel flow per pixel (a
/// spatial displacement and a temporal weight), and trilinear voxel sampling makes the frame: bilinear in each input
/// frame, linear between them. Keys follow the official TensorFlow release's slim scopes (`conv1/weights`,
/// `conv1/BatchNorm/beta`, …, `conv7/biases`), with `/` written `.`; its batch norm has no scale (slim's default).
///
/// With `scales` > 1 it is the paper's multi-scale voxel flow: one encoder–decoder per scale on the input averaged
/// down, the coarser ones' last decoder features upsampled and concatenated to the finest one's, and conv7 fusing
/// them (the paper gives no fusion widths, and the release is single-scale; the coarser networks' keys are
/// `scale1.…`, `scale2.…`).
///
/// The voxel flow is in pixels, not in the release's normalised coordinates, so motion does not shrink with frame
/// size: tanh bounds it to ±`flowScale` pixels over the whole gap (D, frame 0 to frame 1). The release's bound is
/// ±(W − 1)/2 at its fixed 256², about 128 px.
public final class DVF: Layer {
    /// A slim `conv2d` with a batch-norm normaliser: no bias, normalised per channel, then ReLU.
    final class ConvBNReLU: Layer {
        let conv: Conv2d, norm: SlimBatchNorm
        init(_ cin: Int, _ cout: Int, kernel: Int, rng: inout Initializer) {
            conv = Conv2d(cin, cout, kernel: kernel, padding: kernel / 2, bias: false, init: &rng)
            norm = SlimBatchNorm(cout)
        }
        var ownTensors: [(String, Tensor)] { [("weights", conv.weight)] }
        var children: [(String, Layer)] { [("BatchNorm", norm)] }
        func callAsFunction(_ x: Tensor) -> Tensor { norm(conv(x)).relu() }
        func callAsFunction(_ parts: [Tensor]) -> Tensor { self(Tensor.concat(parts)) }
    }

    /// The release's last layer: a plain convolution with a bias and a tanh.
    final class Output: Layer, ConvolutionTensors {
        let conv: Conv2d
        init(_ cin: Int, kernel: Int, rng: inout Initializer) {
            conv = Conv2d(cin, 3, kernel: kernel, padding: kernel / 2, init: &rng)
        }
        var ownTensors: [(String, Tensor)] { [("weights", conv.weight), ("biases", conv.bias!)] }
        func callAsFunction(_ x: Tensor) -> Tensor { conv(x).tanh() }
    }

    /// One scale's encoder–decoder, conv1 … conv6: its output is the decoder's last features at that scale.
    final class EncoderDecoder: Layer {
        let conv1: ConvBNReLU, conv2: ConvBNReLU, conv3: ConvBNReLU, conv4: ConvBNReLU, conv5: ConvBNReLU, conv6: ConvBNReLU
        init(widths w: [Int], rng: inout Initializer) {
            conv1 = ConvBNReLU(6, w[0], kernel: 5, rng: &rng)
            conv2 = ConvBNReLU(w[0], w[1], kernel: 5, rng: &rng)
            conv3 = ConvBNReLU(w[1], w[2], kernel: 3, rng: &rng)
            conv4 = ConvBNReLU(w[2] + w[2], w[3], kernel: 3, rng: &rng)
            conv5 = ConvBNReLU(w[3] + w[1], w[4], kernel: 3, rng: &rng)
            conv6 = ConvBNReLU(w[4] + w[0], w[5], kernel: 5, rng: &rng)
        }
        var layers: [ConvBNReLU] { [conv1, conv2, conv3, conv4, conv5, conv6] }
        var children: [(String, Layer)] {
            [("conv1", conv1), ("conv2", conv2), ("conv3", conv3), ("conv4", conv4), ("conv5", conv5), ("conv6", conv6)]
        }
        func callAsFunction(_ x: Tensor) -> Tensor {
            let up = { (t: Tensor, like: Tensor) in t.resized(height: like.shape[2], width: like.shape[3], mode: .bilinear(alignCorners: false)) }
            let c1 = conv1(x)
            let c2 = conv2(c1.maxPool(2))
            let c3 = conv3(c2.maxPool(2))
            let c4 = conv4([up(c3.maxPool(2), c3), c3])
            let c5 = conv5([up(c4, c2), c2])
            return conv6([up(c5, c1), c1])
        }
    }

    /// The paper's widths (conv1 … conv6); conv7 has the voxel flow's three channels.
    public static let paperWidths = [64, 128, 256, 256, 128, 64]
    /// The release's bound on the displacement over the whole gap at its 256² frames, in pixels.
    public static let defaultFlowScale: Float = 128

    /// The finest scale's encoder–decoder (the release's conv1 … conv6 keys), then the coarser ones (`scale1.…`,
    /// `scale2.…`: the input averaged down 2×, 4×, …).
    let finest: EncoderDecoder
    let coarser: [EncoderDecoder]
    let conv7: Output
    public let widths: [Int]
    public let flowScale: Float
    /// 1 for the single-scale network; N for the paper's multi-scale voxel flow over scales 1, ½, …, 1/2^(N−1).
    public var scales: Int { 1 + coarser.count }
    /// Input sides must be multiples of this: three poolings at the coarsest scale.
    public var sizeUnit: Int { 8 << coarser.count }

    /// Training mode (batch statistics, updating the running ones) or inference (running statistics).
    public var training: Bool {
        get { finest.conv1.norm.norm.training }
        set { for layer in ([finest] + coarser).flatMap(\.layers) { layer.norm.norm.training = newValue } }
    }

    /// `widths`: conv1 … conv6 (the paper's 64, 128, 256, 256, 128, 64), the same at every scale. `scales` > 1 is the
    /// paper's multi-scale voxel flow: an encoder–decoder per scale, the coarser ones' last decoder features upsampled
    /// to full size and concatenated to the finest one's before conv7 fuses them into one voxel flow.
    public init(widths w: [Int] = DVF.paperWidths, flowScale: Float = DVF.defaultFlowScale, scales: Int = 1, seed: UInt64 = 0) {
        precondition(w.count == 6, "DVF widths: six values, conv1 … conv6")
        precondition(scales >= 1, "DVF scales: at least one")
        var rng = Initializer(seed: seed)
        widths = w; self.flowScale = flowScale
        finest = EncoderDecoder(widths: w, rng: &rng)
        coarser = (1..<scales).map { _ in EncoderDecoder(widths: w, rng: &rng) }
        conv7 = Output(w[5] * scales, kernel: 5, rng: &rng)
    }

    public var children: [(String, Layer)] {
        finest.children + coarser.enumerated().map { ("scale\($0.offset + 1)", $0.element) } + [("conv7", conv7)]
    }

    /// The network's input: both frames, RGB scaled from 0…1 to −1…1 as in the release.
    public static func input(_ frame0: Tensor, _ frame1: Tensor) -> Tensor {
        Tensor.concat([frame0, frame1]) * 2 + -1
    }

    /// The voxel flow [N, 3, H, W] (tanh outputs: u, v, m) for frames whose sides are multiples of `sizeUnit`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var features = [finest(x)]
        for (i, network) in coarser.enumerated() {
            let coarse = network(x.avgPool(2 << i))
            features.append(coarse.resized(height: x.shape[2], width: x.shape[3], mode: .bilinear(alignCorners: false)))
        }
        return conv7(features.count == 1 ? features[0] : Tensor.concat(features))
    }

    /// The voxel flow as the sampling needs it: D, the displacement over the whole gap in pixels ([N, 2, H, W]), and
    /// the temporal weight of frame 0 at t = ½, w = (1 + m) / 2 ([N, 1, H, W]).
    public struct VoxelFlow { public let displacement: Tensor, weight0: Tensor }

    public func voxelFlow(_ frame0: Tensor, _ frame1: Tensor) -> VoxelFlow {
        let v = self(Self.input(frame0, frame1))
        return VoxelFlow(displacement: v.slice(axis: 1, 0..<2) * flowScale, weight0: (v.slice(axis: 1, 2..<3) + 1) * 0.5)
    }

    /// Trilinear voxel sampling at t: frame 0 is read at x − t·D and frame 1 at x + (1 − t)·D (bilinear, clamped to
    /// the border), and blended by w₀ = (1 − t)·w and w₁ = t·(1 − w), normalised. At t = ½ this is the paper's
    /// w·I₀(x − D/2) + (1 − w)·I₁(x + D/2); other t assume the motion is linear over the gap.
    public static func sample(_ frame0: Tensor, _ frame1: Tensor, _ flow: VoxelFlow, t: Float) -> Tensor {
        let warped0 = frame0.warped(by: flow.displacement * -t, padding: .border)
        let warped1 = frame1.warped(by: flow.displacement * (1 - t), padding: .border)
        let w0 = flow.weight0 * (1 - t), w1 = (flow.weight0 * -1 + 1) * t
        return (warped0 * w0 + warped1 * w1) / (w0 + w1)
    }

    /// The frame at t for frames in 0…1 (sides multiples of 8).
    public func interpolate(_ frame0: Tensor, _ frame1: Tensor, t: Float = 0.5) -> Tensor {
        Self.sample(frame0, frame1, voxelFlow(frame0, frame1), t: t)
    }

    /// The number of scales of a weight file's network (its `scaleN.` encoder–decoders, plus the finest).
    public static func scales(in weights: [String: Tensor]) -> Int {
        var n = 1
        while weights["scale\(n).conv1.weights"] != nil { n += 1 }
        return n
    }

    /// The widths of a weight file's network (its conv1 … conv6 output channels).
    public static func widths(in weights: [String: Tensor]) throws -> [Int] {
        try (1...6).map { i in
            guard let w = weights["conv\(i).weights"], w.rank == 4 else {
                throw LoadError(source: "DVF weights", problems: ["missing or malformed conv\(i).weights"])
            }
            return w.shape[0]
        }
    }
}

/// Slim's batch norm as the release configures it: no scale (γ fixed at 1), β, moving mean and variance; ε 0.001.
/// The release's moving-average decay of 0.9997 would leave the running statistics near their start over the few
/// thousand steps a compact model trains here, so they follow the batch statistics with a momentum of 0.01.
final class SlimBatchNorm: Layer {
    let norm: BatchNorm2d
    init(_ channels: Int) {
        norm = BatchNorm2d(channels, eps: 1e-3, momentum: 0.01)
        norm.weight = Tensor(shape: [channels], data: [Float](repeating: 1, count: channels))
    }
    var ownTensors: [(String, Tensor)] { [("beta", norm.bias), ("moving_mean", norm.runningMean), ("moving_variance", norm.runningVar)] }
    var bufferKeys: Set<String> { ["moving_mean", "moving_variance"] }
    func callAsFunction(_ x: Tensor) -> Tensor { norm(x) }
}

/// Deep Voxel Flow as a frame interpolator: any t, one network pass per frame pair.
public final class DVFInterpolator: FrameInterpolator, FlowScalable {
    public static let info = ModelInfo(name: "dvf", summary: "Deep Voxel Flow (ICCV 2017), compact, trained here; any t",
                                       arbitraryT: true, needsWeights: true)
    public var info: ModelInfo { Self.info }
    public let network: DVF
    /// Resolution of the voxel-flow network: 0.5 predicts it on half-size frames and scales it back up; the
    /// sampling stays at full resolution.
    public var scale: Float = 1

    public init(network: DVF) {
        self.network = network
        network.training = false
    }

    /// The metadata key for the flow scale in pixels (weights without it use the release's bound).
    public static let flowScaleMetadata = "flow_scale_px"

    public convenience init(weights: [String: Tensor], metadata: [String: String] = [:]) throws {
        let scale = metadata[Self.flowScaleMetadata].flatMap(Float.init) ?? DVF.defaultFlowScale
        let net = DVF(widths: try DVF.widths(in: weights), flowScale: scale, scales: DVF.scales(in: weights))
        try net.load(weights, source: "\(Self.info.name) weights")
        self.init(network: net)
    }

    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        let (a, b) = try window.checkedPair()
        return Tensor.inferenceMode {
            let unit = max(network.sizeUnit, Int(Float(network.sizeUnit) / scale))
            let i0 = NetworkIO.input(a, unit: unit), i1 = NetworkIO.input(b, unit: unit)
            let flow: DVF.VoxelFlow
            if scale == 1 {
                flow = network.voxelFlow(i0, i1)
            } else {
                let (h, w) = (i0.shape[2], i0.shape[3]), (sh, sw) = (Int(Float(h) * scale), Int(Float(w) * scale))
                let small = network.voxelFlow(i0.resized(height: sh, width: sw, mode: .bilinear(alignCorners: false)),
                                              i1.resized(height: sh, width: sw, mode: .bilinear(alignCorners: false)))
                let full = { (t: Tensor) in t.resized(height: h, width: w, mode: .bilinear(alignCorners: false)) }
                flow = DVF.VoxelFlow(displacement: full(small.displacement) * (1 / scale), weight0: full(small.weight0))
            }
            return times.map { NetworkIO.image(from: DVF.sample(i0, i1, flow, t: $0), like: a) }
        }
    }
}
