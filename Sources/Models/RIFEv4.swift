import Frames
import Kernels
import NN
import Tensor

/// Practical-RIFE v4.25/v4.26 (hzwer, MIT): five IFBlocks from 1/16 to full resolution, each with eight
/// residual 3×3 convolutions (learned per-channel scale β), a shared feature encoder ("encode") whose warped
/// features feed every later block, and the timestep t as an input plane, so any t is synthesised directly.
/// Keys as in the official `flownet.pkl`.
public final class IFNetV4: Layer {
    /// Four feature channels at full resolution for every frame.
    final class Head: Layer {
        let cnn0: Conv2d, cnn1: Conv2d, cnn2: Conv2d, cnn3: ConvTranspose2d
        init(_ rng: inout Initializer) {
            cnn0 = Conv2d(3, 16, kernel: 3, stride: 2, padding: 1, init: &rng)
            cnn1 = Conv2d(16, 16, kernel: 3, padding: 1, init: &rng)
            cnn2 = Conv2d(16, 16, kernel: 3, padding: 1, init: &rng)
            cnn3 = ConvTranspose2d(16, 4, kernel: 4, stride: 2, padding: 1, init: &rng)
        }
        var children: [(String, Layer)] { [("cnn0", cnn0), ("cnn1", cnn1), ("cnn2", cnn2), ("cnn3", cnn3)] }
        func callAsFunction(_ x: Tensor) -> Tensor {
            cnn3(cnn2(cnn1(cnn0(x, then: .leakyReLU(0.2)), then: .leakyReLU(0.2)), then: .leakyReLU(0.2)))
        }
    }

    /// relu(conv(x)·β + x)
    final class ResConv: Layer {
        let conv: Conv2d, beta: Tensor
        init(_ c: Int, _ rng: inout Initializer) {
            conv = Conv2d(c, c, kernel: 3, padding: 1, init: &rng)
            beta = Tensor(shape: [1, c, 1, 1], data: [Float](repeating: 1, count: c), requiresGrad: true)
        }
        var ownTensors: [(String, Tensor)] { [("beta", beta)] }
        var children: [(String, Layer)] { [("conv", conv)] }
        func callAsFunction(_ x: Tensor) -> Tensor { (conv(x) * beta + x).leakyReLU(0.2) }
    }

    final class IFBlock: Layer {
        let conv0: Sequential, convblock: Sequential, lastconv: Sequential
        init(inChannels: Int, width c: Int, _ rng: inout Initializer) {
            conv0 = Sequential([Sequential([Conv2d(inChannels, c / 2, kernel: 3, stride: 2, padding: 1, init: &rng), Function.leakyReLU(0.2)]),
                                Sequential([Conv2d(c / 2, c, kernel: 3, stride: 2, padding: 1, init: &rng), Function.leakyReLU(0.2)])])
            convblock = Sequential((0..<8).map { _ in ResConv(c, &rng) })
            // 52 = 4 · 13 channels, pixel-shuffled ×2 into flow (4), mask (1) and features (8).
            lastconv = Sequential([ConvTranspose2d(c, 4 * 13, kernel: 4, stride: 2, padding: 1, init: &rng), Function { $0.pixelShuffle(2) }])
        }
        var children: [(String, Layer)] { [("conv0", conv0), ("convblock", convblock), ("lastconv", lastconv)] }
        func callAsFunction(_ x: Tensor) -> Tensor { fatalError("IFBlock takes (input, flow, scale)") }

        /// `parts` are the input's channel groups at full resolution: each is resized on its own (resizing works
        /// per channel, so this equals resizing their concatenation) and concatenated at the block's resolution.
        /// `carried` (the previous block's mask and features) come at that block's resolution: the reference
        /// resizes them to full resolution and back down here, which is done in one step.
        /// Returns the flow update (in full-resolution pixels), the mask and the features, all at this block's
        /// resolution: the caller brings the flow to full resolution as it adds it.
        func callAsFunction(_ parts: [Tensor], carried: [Tensor] = [], flow: Tensor?, scale: Float) -> (flow: Tensor, mask: Tensor, feat: Tensor) {
            let (h, w) = (parts[0].shape[2], parts[0].shape[3]), sh = Int(Float(h) / scale), sw = Int(Float(w) / scale)
            let bilinear = Resize.Mode.bilinear(alignCorners: false)
            var resized = parts.map { $0.resized(height: sh, width: sw, mode: bilinear) }
            resized += carried.map { $0.resized(height: sh, width: sw, via: h, w, mode: bilinear) }
            if let flow { resized.append(scale == 1 ? flow : flow.resized(height: sh, width: sw, mode: bilinear) * (1 / scale)) }
            // The first convolution reads the parts in place: no full-resolution concatenation in the last block.
            let tmp = lastconv(convblock(conv0(concatenationOf: resized)))
            return (tmp.slice(axis: 1, 0..<4), tmp.slice(axis: 1, 4..<5), tmp.slice(axis: 1, 5..<13))
        }
    }

    let blocks: [IFBlock]
    let encode: Head
    /// Parts of the official checkpoint used only in training (the privileged teacher and a time calibrator).
    public static let trainingOnly = ["teacher.", "caltime."]

    public init(seed: UInt64 = 0) {
        var rng = Initializer(seed: seed)
        blocks = [IFBlock(inChannels: 7 + 8, width: 192, &rng)]
            + [128, 96, 64, 32].map { IFBlock(inChannels: 8 + 4 + 8 + 8, width: $0, &rng) }
        encode = Head(&rng)
    }

    public var children: [(String, Layer)] {
        blocks.enumerated().map { ("block\($0.offset)", $0.element as Layer) } + [("encode", encode)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { interpolate(x.slice(axis: 1, 0..<3), x.slice(axis: 1, 3..<6), t: 0.5).frame }

    /// The frame at time t between img0 and img1 ([N, 3, H, W], H and W multiples of 128/scale).
    public func interpolate(_ img0: Tensor, _ img1: Tensor, t: Float, scale: Float = 1) -> (frame: Tensor, flow: Tensor, mask: Tensor) {
        let (n, h, w) = (img0.shape[0], img0.shape[2], img0.shape[3])
        let timestep = Tensor(repeating: t, shape: [n, 1, h, w])
        let f0 = encode(img0), f1 = encode(img1)
        var flow: Tensor? = nil, mask = Tensor(zeros: [n, 1, h, w]), feat = Tensor(zeros: [n, 8, h, w])   // at the last block's resolution
        var warped0 = img0, warped1 = img1
        for (i, block) in blocks.enumerated() {
            let s = Float(16 >> i) / scale
            let out: (flow: Tensor, mask: Tensor, feat: Tensor)
            if let current = flow {
                // Each frame and its features move by the same flow: warped together (one set of corners).
                let moved0 = Tensor.warped([img0, f0], byChannelsOf: current, from: 0)
                let moved1 = Tensor.warped([img1, f1], byChannelsOf: current, from: 2)
                (warped0, warped1) = (moved0[0], moved1[0])
                out = block([warped0, warped1, moved0[1], moved1[1], timestep], carried: [mask, feat], flow: current, scale: s)
                // current + update resized to full resolution · s, in one pass.
                flow = current.addingResized(out.flow, scale: s, mode: .bilinear(alignCorners: false))
            } else {
                out = block([img0, img1, f0, f1, timestep], flow: nil, scale: s)
                flow = out.flow.resized(height: h, width: w, mode: .bilinear(alignCorners: false)) * s
            }
            (mask, feat) = (out.mask, out.feat)
        }
        // The last flow warps the frames only.
        warped0 = img0.warped(byChannelsOf: flow!, from: 0)
        warped1 = img1.warped(byChannelsOf: flow!, from: 2)
        let m = mask.resized(height: h, width: w, mode: .bilinear(alignCorners: false)).sigmoid()
        return (warped0 * m + warped1 * (m * -1 + 1), flow!, m)
    }
}

/// RIFE v4.25 as a frame interpolator: any t, one network pass per t.
public final class RIFEv4Interpolator: FrameInterpolator, FlowScalable {
    public static let info = ModelInfo(name: "rife-v4.25", summary: "Practical-RIFE v4.25 (any t), official weights", arbitraryT: true,
                                       needsWeights: true)
    public var info: ModelInfo { Self.info }
    public let network = IFNetV4()
    public var scale: Float = 1

    public init(weights: [String: Tensor]) throws {
        try network.load(weights, source: "rife-v4.25 weights", ignoring: IFNetV4.trainingOnly)
    }

    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        let (a, b) = try window.checkedPair()
        let unit = max(128, Int(128 / scale))   // the reference pads to multiples of 128
        let x0 = RIFEInterpolator.networkInput(a, unit: unit), x1 = RIFEInterpolator.networkInput(b, unit: unit)
        return times.map { t in
            NetworkIO.image(from: Tensor.inferenceMode { network.interpolate(x0, x1, t: t, scale: scale).frame }, like: a)
        }
    }
}
