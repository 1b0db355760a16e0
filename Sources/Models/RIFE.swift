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

        /// (flow update, mask update) from the block's input (already at 1/scale of full resolution, flow in
        /// its pixels), at that same resolution; the caller resizes them to full resolution.
        func callAsFunction(_ parts: [Tensor]) -> (flow: Tensor, mask: Tensor) {
            var feat = conv0(concatenationOf: parts)   // read in place, never concatenated
            for block in convblock { feat = block(feat) + feat }
            return (conv1(feat), conv2(feat))
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
        let bilinear = Resize.Mode.bilinear(alignCorners: false)
        func swapped(_ f: Tensor) -> Tensor { Tensor.concat([f.slice(axis: 1, 2..<4), f.slice(axis: 1, 0..<2)]) }
        for (block, s) in [(block0, 4 / scale), (block1, 2 / scale), (block2, 1 / scale)] {
            // The block's inputs at 1/s resolution (the flow in those pixels), resized once for both directions.
            let sh = Int(Float(h) / s), sw = Int(Float(w) / s)
            let down = [warped0, warped1, mask].map { $0.resized(height: sh, width: sw, mode: bilinear) }
            let flowDown = s == 1 ? flow : flow.resized(height: sh, width: sw, mode: bilinear) * (1 / s)
            // Each block sees both directions; the second pass swaps the frames and the flow halves, and the two
            // estimates are averaged (the paper's symmetric test-time step). Resizing is linear, so averaging
            // before resizing to full resolution gives the reference's sum (up to rounding).
            let f0m0 = block([down[0], down[1], down[2], flowDown])
            let f1m1 = block([down[1], down[0], -down[2], swapped(flowDown)])
            flow = flow.addingResized(f0m0.flow + swapped(f1m1.flow), scale: s * 0.5, mode: bilinear)
            mask = mask.addingResized(f0m0.mask - f1m1.mask, scale: 0.5, mode: bilinear)
            warped0 = img0.warped(byChannelsOf: flow, from: 0)
            warped1 = img1.warped(byChannelsOf: flow, from: 2)
        }
        let m = mask.sigmoid()
        return (warped0 * m + warped1 * (m * -1 + 1), flow, m)
    }
}

/// RIFE HDv3 as a frame interpolator (t = ½; other t by the pipeline's halving).
public final class RIFEInterpolator: FrameInterpolator, FlowScalable {
    public static let info = ModelInfo(name: "rife-hdv3", summary: "RIFE HDv3 (ECCV 2022), official weights", arbitraryT: false,
                                       needsWeights: true, swapSymmetric: true)
    public var info: ModelInfo { Self.info }
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
    /// official scripts read frames with OpenCV (B, G, R), but the peers' reference figures (docs/BENCHMARKS.md) were measured with
    /// R, G, B, and only that order reproduces them (docs/BENCHMARKS.md).
    static func networkInput(_ im: Image, unit: Int) -> Tensor { NetworkIO.input(im, unit: unit, padding: .zeros) }
}
