import Frames
import Kernels
import NN
import Tensor

/// RIFE (Huang et al., "Real-Time Intermediate Flow Estimation for Video Frame Interpolation", ECCV 2022),
/// the HDv3 flow network of the ECCV2022-RIFE release: three IFBlocks refine a bidirectional flow and a fusion
/// mask from coarse (¼) to fine (1×); the middle frame is the mask-weighted blend of both inputs warped by
/// the flow. Keys as in the official `flownet.pkl` (without the "module." prefix).
public final class IFNetHDv3: Layer {
    /// One coarse-to-fine stage: downsample by 4 (two stride-2 convolutions), four residual pairs of 3×3
    /// convolutions, then transposed convolutions back up to a flow update (4 channels) and a mask update.
    public final class IFBlock: Layer {
        let conv0: Sequential, convblock: [Sequential], conv1: Sequential, conv2: Sequential

        static func conv(_ cin: Int, _ cout: Int, stride: Int = 1, _ rng: inout Initializer) -> Sequential {
            Sequential([Conv2d(cin, cout, kernel: 3, stride: stride, padding: 1, init: &rng), PReLU(cout)])
        }

        init(inChannels: Int, width c: Int, rng: inout Initializer) {
            conv0 = Sequential([Self.conv(inChannels, c / 2, stride: 2, &rng), Self.conv(c / 2, c, stride: 2, &rng)])
            var blocks: [Sequential] = []
            for _ in 0..<4 { blocks.append(Sequential([Self.conv(c, c, &rng), Self.conv(c, c, &rng)])) }
            convblock = blocks
            conv1 = Sequential([ConvTranspose2d(c, c / 2, kernel: 4, stride: 2, padding: 1, init: &rng), PReLU(c / 2),
                                ConvTranspose2d(c / 2, 4, kernel: 4, stride: 2, padding: 1, init: &rng)])
            conv2 = Sequential([ConvTranspose2d(c, c / 2, kernel: 4, stride: 2, padding: 1, init: &rng), PReLU(c / 2),
                                ConvTranspose2d(c / 2, 1, kernel: 4, stride: 2, padding: 1, init: &rng)])
        }

        public var children: [(String, Layer)] {
            [("conv0", conv0)] + convblock.enumerated().map { ("convblock\($0.offset)", $0.element as Layer) }
                + [("conv1", conv1), ("conv2", conv2)]
        }

        public func callAsFunction(_ x: Tensor) -> Tensor { fatalError("IFBlock takes (input, flow, scale)") }

        /// Works at 1/scale of the input's resolution and returns (flow update, mask update) at full resolution.
        /// `parts` are the input's channel groups at full resolution, each resized on its own (resizing works per
        /// channel, so this equals resizing their concatenation) and concatenated at the block's resolution.
        func callAsFunction(_ parts: [Tensor], flow: Tensor, scale: Float) -> (flow: Tensor, mask: Tensor) {
            let (h, w) = (parts[0].shape[2], parts[0].shape[3])
            let sh = Int(Float(h) / scale), sw = Int(Float(w) / scale)
            let down = parts.map { scale == 1 ? $0 : $0.resized(height: sh, width: sw, mode: .bilinear(alignCorners: false)) }
            let flowDown = scale == 1 ? flow : flow.resized(height: sh, width: sw, mode: .bilinear(alignCorners: false)) * (1 / scale)
            var feat = conv0(concatenationOf: down + [flowDown])   // read in place, never concatenated
            for block in convblock { feat = block(feat) + feat }
            var f = conv1(feat), m = conv2(feat)
            if scale != 1 {
                f = f.resized(height: h, width: w, mode: .bilinear(alignCorners: false)) * scale
                m = m.resized(height: h, width: w, mode: .bilinear(alignCorners: false))
            }
            return (f, m)
        }
    }

    public let block0: IFBlock, block1: IFBlock, block2: IFBlock
    /// The privileged teacher of training (sees the ground truth); kept so the checkpoint loads whole.
    public let blockTea: IFBlock

    public init(width: Int = 90, seed: UInt64 = 0) {
        var rng = Initializer(seed: seed)
        block0 = IFBlock(inChannels: 7 + 4, width: width, rng: &rng)
        block1 = IFBlock(inChannels: 7 + 4, width: width, rng: &rng)
        block2 = IFBlock(inChannels: 7 + 4, width: width, rng: &rng)
        blockTea = IFBlock(inChannels: 10 + 4, width: width, rng: &rng)
    }

    public var children: [(String, Layer)] {
        [("block0", block0), ("block1", block1), ("block2", block2), ("block_tea", blockTea)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { interpolate(x.slice(axis: 1, 0..<3), x.slice(axis: 1, 3..<6)).frame }

    /// The middle frame of img0 and img1 ([N, 3, H, W], H and W multiples of 32/scale), its flow [N, 4, H, W]
    /// (0→t, 1→t) and fusion mask. `scale` < 1 estimates flow at lower resolution (for 4K).
    public func interpolate(_ img0: Tensor, _ img1: Tensor, scale: Float = 1) -> (frame: Tensor, flow: Tensor, mask: Tensor) {
        let (n, h, w) = (img0.shape[0], img0.shape[2], img0.shape[3])
        var flow = Tensor(zeros: [n, 4, h, w]), mask = Tensor(zeros: [n, 1, h, w])
        var warped0 = img0, warped1 = img1
        for (block, s) in [(block0, 4 / scale), (block1, 2 / scale), (block2, 1 / scale)] {
            // Each block sees both directions; the second pass swaps the frames and the flow halves, and the two
            // estimates are averaged (the paper's symmetric test-time step).
            let f0m0 = block([warped0, warped1, mask], flow: flow, scale: s)
            let swapped = Tensor.concat([flow.slice(axis: 1, 2..<4), flow.slice(axis: 1, 0..<2)])
            let f1m1 = block([warped1, warped0, -mask], flow: swapped, scale: s)
            let f1Swapped = Tensor.concat([f1m1.flow.slice(axis: 1, 2..<4), f1m1.flow.slice(axis: 1, 0..<2)])
            flow = flow + (f0m0.flow + f1Swapped) * 0.5
            mask = mask + (f0m0.mask - f1m1.mask) * 0.5
            warped0 = img0.warped(byChannelsOf: flow, from: 0)
            warped1 = img1.warped(byChannelsOf: flow, from: 2)
        }
        let m = mask.sigmoid()
        return (warped0 * m + warped1 * (m * -1 + 1), flow, m)
    }
}

/// RIFE HDv3 as a frame interpolator (t = ½; other t by the pipeline's halving).
public final class RIFEInterpolator: FrameInterpolator, FlowScalable {
    public let info = ModelInfo(name: "rife-hdv3", summary: "RIFE HDv3 (ECCV 2022), official weights", arbitraryT: false,
                                needsWeights: true)
    public let network: IFNetHDv3
    public var scale: Float = 1

    public init(weights: [String: Tensor]) throws {
        network = IFNetHDv3()
        try network.load(weights, source: "rife-hdv3 weights")
    }

    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        let (a, b) = try window.checkedPair()
        // Padded to a multiple of 32/scale with zeros at the right and bottom, as the reference does.
        let unit = max(32, Int(32 / scale))
        let out = Tensor.inferenceMode {
            network.interpolate(Self.networkInput(a, unit: unit), Self.networkInput(b, unit: unit), scale: scale).frame
        }
        let image = NetworkIO.image(from: out, like: a)
        return times.map { _ in image }
    }

    /// [1, 3, H', W'], zero-padded at the right and bottom to multiples of `unit`. Channels stay R, G, B: the
    /// official scripts read frames with OpenCV (B, G, R), but PEERS.md's reference figures were measured with
    /// R, G, B, and only that order reproduces them within 0.05 dB (v4.25 on Middlebury: 33.29 in RGB, 33.22 in BGR).
    static func networkInput(_ im: Image, unit: Int) -> Tensor { NetworkIO.input(im, unit: unit, padding: .zeros) }
}
