import Frames
import Kernels
import NN
import Tensor

/// The port's activation after every U-Net convolution (fused into the convolution in inference).
private let leaky = Activation.leakyReLU(0.1)

/// Super SloMo (Jiang et al., CVPR 2018): a flow U-Net estimates F₀→₁ and F₁→₀ once per frame pair; for each t
/// the flows to t are approximated linearly, refined by a second U-Net that also predicts a visibility map, and
/// the two inputs are warped and fused. Keys as in the standard PyTorch port's checkpoint (`state_dictFC.…`,
/// `state_dictAT.…`), so a converted `SuperSloMo.ckpt` loads unchanged.
public final class SuperSloMo: Layer {
    /// The port's U-Net: two 7×7 convs, five average-pool-down blocks, five bilinear-up blocks with concatenated
    /// skips, a 3×3 output conv; leaky ReLU (0.1) after every conv, the output included.
    public final class UNet: Layer {
        final class Down: Layer {
            let conv1: Conv2d, conv2: Conv2d
            init(_ cin: Int, _ cout: Int, kernel: Int, rng: inout Initializer) {
                conv1 = Conv2d(cin, cout, kernel: kernel, padding: (kernel - 1) / 2, init: &rng)
                conv2 = Conv2d(cout, cout, kernel: kernel, padding: (kernel - 1) / 2, init: &rng)
            }
            var children: [(String, Layer)] { [("conv1", conv1), ("conv2", conv2)] }
            func callAsFunction(_ x: Tensor) -> Tensor { conv2(conv1(x.avgPool(2), then: leaky), then: leaky) }
        }

        final class Up: Layer {
            let conv1: Conv2d, conv2: Conv2d
            init(_ cin: Int, _ cout: Int, rng: inout Initializer) {
                conv1 = Conv2d(cin, cout, kernel: 3, padding: 1, init: &rng)
                conv2 = Conv2d(2 * cout, cout, kernel: 3, padding: 1, init: &rng)
            }
            var children: [(String, Layer)] { [("conv1", conv1), ("conv2", conv2)] }
            func callAsFunction(_ x: Tensor) -> Tensor { fatalError("Up takes (x, skip)") }
            func callAsFunction(_ x: Tensor, skip: Tensor) -> Tensor {
                let up = x.resized(height: skip.shape[2], width: skip.shape[3], mode: .bilinear(alignCorners: false))
                return conv2(Tensor.concat([conv1(up, then: leaky), skip]), then: leaky)
            }
        }

        let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d
        let down: [Down], up: [Up]
        /// The port ends with a leaky ReLU even on flows, so a flow of −10 px needs a pre-activation of −100;
        /// weights trained here use a linear output (the paper's form), recorded in their metadata.
        public let linearOutput: Bool

        /// `widths`: the six feature widths from full resolution to 1/32 (the port: 32, 64, 128, 256, 512, 512).
        public init(inChannels: Int, outChannels: Int, widths w: [Int], linearOutput: Bool = false, rng: inout Initializer) {
            self.linearOutput = linearOutput
            precondition(w.count == 6, "Super SloMo U-Net widths: six values")
            conv1 = Conv2d(inChannels, w[0], kernel: 7, padding: 3, init: &rng)
            conv2 = Conv2d(w[0], w[0], kernel: 7, padding: 3, init: &rng)
            down = (1...5).map { Down(w[$0 - 1], w[$0], kernel: $0 == 1 ? 5 : 3, rng: &rng) }
            up = (1...5).map { Up(w[6 - $0], w[5 - $0], rng: &rng) }
            conv3 = Conv2d(w[0], outChannels, kernel: 3, padding: 1, init: &rng)
        }

        public var children: [(String, Layer)] {
            [("conv1", conv1), ("conv2", conv2)] + down.enumerated().map { ("down\($0.offset + 1)", $0.element as Layer) }
                + up.enumerated().map { ("up\($0.offset + 1)", $0.element as Layer) } + [("conv3", conv3)]
        }

        public func callAsFunction(_ input: Tensor) -> Tensor {
            var skips = [conv2(conv1(input, then: leaky), then: leaky)]
            for block in down.dropLast() { skips.append(block(skips.last!)) }
            var x = down.last!(skips.last!)
            for (block, skip) in zip(up, skips.reversed()) { x = block(x, skip: skip) }
            return linearOutput ? conv3(x) : conv3(x, then: leaky)
        }
    }

    /// The port's input normalisation: RGB in 0…1 minus this mean (standard deviation 1).
    public static let mean: [Float] = [0.429, 0.431, 0.397]
    public static let officialWidths = [32, 64, 128, 256, 512, 512]

    public let flowComputation: UNet, flowInterpolation: UNet
    public let widths: [Int]
    public var linearOutput: Bool { flowComputation.linearOutput }

    public init(widths: [Int] = SuperSloMo.officialWidths, linearOutput: Bool = false, seed: UInt64 = 0) {
        var rng = Initializer(seed: seed)
        self.widths = widths
        flowComputation = UNet(inChannels: 6, outChannels: 4, widths: widths, linearOutput: linearOutput, rng: &rng)
        flowInterpolation = UNet(inChannels: 20, outChannels: 5, widths: widths, linearOutput: linearOutput, rng: &rng)
    }

    /// The metadata key and value that mark weights trained with linear U-Net outputs.
    public static let outputMetadata = ("output_activation", "linear")

    public var children: [(String, Layer)] { [("state_dictFC", flowComputation), ("state_dictAT", flowInterpolation)] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let flows = bidirectionalFlow(x.slice(axis: 1, 0..<3), x.slice(axis: 1, 3..<6))
        return synthesise(flows, t: 0.5).frame
    }

    /// F₀→₁ and F₁→₀ ([N, 2, H, W] each, pixels) for normalised frames I₀ and I₁ (H, W multiples of 32).
    public struct PairFlows { public let i0: Tensor, i1: Tensor, f01: Tensor, f10: Tensor }

    public func bidirectionalFlow(_ i0: Tensor, _ i1: Tensor) -> PairFlows {
        let out = flowComputation(Tensor.concat([i0, i1]))
        return PairFlows(i0: i0, i1: i1, f01: out.slice(axis: 1, 0..<2), f10: out.slice(axis: 1, 2..<4))
    }

    /// Everything the losses need for one t: the fused frame (normalised), the linear flow estimates F̂ₜ→₀ and
    /// F̂ₜ→₁, the refined flows and the visibility of I₀.
    public struct Synthesis {
        public let frame: Tensor, approxT0: Tensor, approxT1: Tensor, flowT0: Tensor, flowT1: Tensor, visibility0: Tensor
    }

    public func synthesise(_ p: PairFlows, t: Float) -> Synthesis {
        // The paper's linear approximation of the flows from t, assuming locally smooth motion.
        let approxT0 = p.f01 * (-(1 - t) * t) + p.f10 * (t * t)
        let approxT1 = p.f01 * ((1 - t) * (1 - t)) + p.f10 * (-t * (1 - t))
        let g0 = p.i0.warped(by: approxT0, padding: .zeros), g1 = p.i1.warped(by: approxT1, padding: .zeros)
        let refine = flowInterpolation(Tensor.concat([p.i0, p.i1, p.f01, p.f10, approxT1, approxT0, g1, g0]))
        let flowT0 = approxT0 + refine.slice(axis: 1, 0..<2)
        let flowT1 = approxT1 + refine.slice(axis: 1, 2..<4)
        let v0 = refine.slice(axis: 1, 4..<5).sigmoid()
        let v1 = v0 * -1 + 1
        let w0 = v0 * (1 - t), w1 = v1 * t
        let frame = (p.i0.warped(by: flowT0, padding: .zeros) * w0 + p.i1.warped(by: flowT1, padding: .zeros) * w1) / (w0 + w1)
        return Synthesis(frame: frame, approxT0: approxT0, approxT1: approxT1, flowT0: flowT0, flowT1: flowT1, visibility0: v0)
    }

    /// [N, 3, H, W] RGB in 0…1 ↔ the network's normalised input.
    public static func normalised(_ rgb: Tensor) -> Tensor {
        rgb - Tensor(shape: [1, 3, 1, 1], data: mean)
    }
    public static func denormalised(_ x: Tensor) -> Tensor {
        x + Tensor(shape: [1, 3, 1, 1], data: mean)
    }
}

/// Super SloMo as a frame interpolator: one flow pass per pair, one refinement pass per t.
public final class SuperSloMoInterpolator: FrameInterpolator, FlowScalable {
    public static let info = ModelInfo(name: "superslomo", summary: "Super SloMo (CVPR 2018), compact, trained here; any t",
                                       arbitraryT: true, needsWeights: true)
    public var info: ModelInfo { Self.info }
    public let network: SuperSloMo
    /// Resolution of the flow U-Net: 0.5 estimates F₀→₁ and F₁→₀ on half-size frames (motions look half as large
    /// to it) and scales them back up; refinement and synthesis stay at full resolution.
    public var scale: Float = 1

    public init(network: SuperSloMo) {
        self.network = network
    }

    public convenience init(weights: [String: Tensor], metadata: [String: String] = [:]) throws {
        let linear = metadata[SuperSloMo.outputMetadata.0] == SuperSloMo.outputMetadata.1
        let net = SuperSloMo(widths: try SuperSloMo.widths(in: weights), linearOutput: linear)
        try net.load(weights, source: "\(Self.info.name) weights")
        self.init(network: net)
    }

    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        let (a, b) = try window.checkedPair()
        return Tensor.inferenceMode {
            // Padded so that the scaled frames are still multiples of 32.
            let unit = max(32, Int(32 / scale))
            let i0 = SuperSloMo.normalised(NetworkIO.input(a, unit: unit)), i1 = SuperSloMo.normalised(NetworkIO.input(b, unit: unit))
            let flows = scale == 1 ? network.bidirectionalFlow(i0, i1) : scaledFlow(i0, i1)
            return times.map { NetworkIO.image(from: SuperSloMo.denormalised(network.synthesise(flows, t: $0).frame), like: a) }
        }
    }
}

extension SuperSloMoInterpolator {
    func scaledFlow(_ i0: Tensor, _ i1: Tensor) -> SuperSloMo.PairFlows {
        let (h, w) = (i0.shape[2], i0.shape[3]), (sh, sw) = (Int(Float(h) * scale), Int(Float(w) * scale))
        let small = network.bidirectionalFlow(i0.resized(height: sh, width: sw, mode: .bilinear(alignCorners: false)),
                                              i1.resized(height: sh, width: sw, mode: .bilinear(alignCorners: false)))
        func up(_ f: Tensor) -> Tensor { f.resized(height: h, width: w, mode: .bilinear(alignCorners: false)) * (1 / scale) }
        return SuperSloMo.PairFlows(i0: i0, i1: i1, f01: up(small.f01), f10: up(small.f10))
    }
}

extension SuperSloMo {
    /// The U-Net widths of a checkpoint, read from its weight shapes (official or compact).
    public static func widths(in weights: [String: Tensor]) throws -> [Int] {
        let keys = ["conv1", "down1.conv1", "down2.conv1", "down3.conv1", "down4.conv1", "down5.conv1"]
        return try keys.map { key in
            guard let w = weights["state_dictFC.\(key).weight"], w.rank == 4 else {
                throw LoadError(source: "Super SloMo weights", problems: ["missing state_dictFC.\(key).weight"])
            }
            return w.shape[0]
        }
    }
}

extension SuperSloMo {
    /// How many equally wide parts a weight's input channels concatenate, for `Layer.loadWidening`: each up block's
    /// second convolution reads its first convolution's output and the skip.
    public static func inputParts(ofWeight key: String) -> Int {
        key.hasSuffix(".conv2.weight") && key.contains(".up") ? 2 : 1
    }
}
