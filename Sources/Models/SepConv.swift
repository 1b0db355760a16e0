import Frames
import Kernels
import NN
import Tensor

/// SepConv (Niklaus, Mai and Liu, "Video Frame Interpolation via Adaptive Separable Convolution", ICCV 2017):
/// an encoder–decoder with additive skips predicts, for every output pixel, a vertical and a horizontal 1-D
/// kernel per input frame; the middle frame is the sum of both frames filtered by their per-pixel separable
/// kernels. Keys as in the official `network-l1.pytorch` (`moduleConv1.0.weight`, …).
public final class SepConv: Layer {
    /// conv3×3–ReLU three times (the official "Basic"); keys 0, 2, 4.
    static func basic(_ cin: Int, _ cout: Int, _ rng: inout Initializer) -> Sequential {
        Sequential([Conv2d(cin, cout, kernel: 3, padding: 1, init: &rng), Function.relu(),
                    Conv2d(cout, cout, kernel: 3, padding: 1, init: &rng), Function.relu(),
                    Conv2d(cout, cout, kernel: 3, padding: 1, init: &rng), Function.relu()])
    }

    /// ×2 bilinear (corners aligned) then conv3×3–ReLU; key 1.
    static func upsample(_ c: Int, _ rng: inout Initializer) -> Sequential {
        Sequential([Function.upsample2x(alignCorners: true), Conv2d(c, c, kernel: 3, padding: 1, init: &rng), Function.relu()])
    }

    /// One of the four kernel heads: three convs, ×2 upsampling, a last conv with no activation; keys 0, 2, 4, 7.
    static func subnet(_ cin: Int, _ width: Int, _ k: Int, _ rng: inout Initializer) -> Sequential {
        Sequential([Conv2d(cin, width, kernel: 3, padding: 1, init: &rng), Function.relu(),
                    Conv2d(width, width, kernel: 3, padding: 1, init: &rng), Function.relu(),
                    Conv2d(width, k, kernel: 3, padding: 1, init: &rng), Function.relu(),
                    Function.upsample2x(alignCorners: true), Conv2d(k, k, kernel: 3, padding: 1, init: &rng)])
    }

    public struct Configuration: Equatable, Sendable {
        /// Encoder widths from full resolution to 1/16 (official: 32, 64, 128, 256, 512).
        public var widths: [Int]
        /// Width of the kernel heads (official: 64).
        public var subnetWidth: Int
        /// Length of each 1-D kernel (official: 51, i.e. motions up to ±25 px).
        public var kernelSize: Int

        public init(widths: [Int], subnetWidth: Int, kernelSize: Int) {
            precondition(widths.count == 5 && kernelSize % 2 == 1, "SepConv: five widths and an odd kernel size")
            self.widths = widths; self.subnetWidth = subnetWidth; self.kernelSize = kernelSize
        }
        public static let official = Configuration(widths: [32, 64, 128, 256, 512], subnetWidth: 64, kernelSize: 51)
    }

    public let configuration: Configuration
    let conv: [Sequential], deconv: [Sequential], upsample: [Sequential]
    let vertical1: Sequential, vertical2: Sequential, horizontal1: Sequential, horizontal2: Sequential

    public init(_ configuration: Configuration = .official, seed: UInt64 = 0) {
        self.configuration = configuration
        var rng = Initializer(seed: seed)
        let w = configuration.widths
        conv = (0..<5).map { Self.basic($0 == 0 ? 6 : w[$0 - 1], w[$0], &rng) }
        // Deconv5 keeps the bottleneck width; Deconv4…2 step back down the encoder's widths.
        deconv = [4, 3, 2, 1].map { Self.basic(w[min($0 + 1, 4)], w[$0], &rng) }
        upsample = [4, 3, 2, 1].map { Self.upsample(w[$0], &rng) }
        let (s, k) = (configuration.subnetWidth, configuration.kernelSize)
        vertical1 = Self.subnet(w[1], s, k, &rng); vertical2 = Self.subnet(w[1], s, k, &rng)
        horizontal1 = Self.subnet(w[1], s, k, &rng); horizontal2 = Self.subnet(w[1], s, k, &rng)
    }

    /// Starts the kernel heads at a plain blend: each head's last convolution is scaled by `weightScale` and its
    /// bias becomes a centred delta of √½, so each frame's separable kernel starts near ½·δ. With random kernels
    /// training starts about 2 dB below blending the inputs and spends thousands of steps climbing back.
    public func initialiseKernelsAsBlend(weightScale: Float = 0.1) {
        let k = configuration.kernelSize
        for head in [vertical1, vertical2, horizontal1, horizontal2] {
            guard let last = head.layers.last as? Conv2d, let bias = last.bias else { preconditionFailure("SepConv head ends in a biased convolution") }
            for i in last.weight.data.indices { last.weight.data[i] *= weightScale }
            for i in 0..<k { bias.data[i] = i == k / 2 ? Float(0.5).squareRoot() : 0 }
        }
    }

    public var children: [(String, Layer)] {
        conv.enumerated().map { ("moduleConv\($0.offset + 1)", $0.element as Layer) }
            + deconv.enumerated().map { ("moduleDeconv\(5 - $0.offset)", $0.element as Layer) }
            + upsample.enumerated().map { ("moduleUpsample\(5 - $0.offset)", $0.element as Layer) }
            + [("moduleVertical1", vertical1), ("moduleVertical2", vertical2),
               ("moduleHorizontal1", horizontal1), ("moduleHorizontal2", horizontal2)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { interpolate(x.slice(axis: 1, 0..<3), x.slice(axis: 1, 3..<6)) }

    /// The middle frame of two [N, 3, H, W] frames (H, W multiples of 32).
    public func interpolate(_ first: Tensor, _ second: Tensor) -> Tensor { filter(first, second, kernels(first, second)) }

    /// The per-pixel 1-D kernels [N, K, H, W]: vertical and horizontal for the first frame, then for the second.
    public struct Kernels {
        public let vertical1: Tensor, horizontal1: Tensor, vertical2: Tensor, horizontal2: Tensor
        public init(vertical1: Tensor, horizontal1: Tensor, vertical2: Tensor, horizontal2: Tensor) {
            self.vertical1 = vertical1; self.horizontal1 = horizontal1; self.vertical2 = vertical2; self.horizontal2 = horizontal2
        }
    }

    public func kernels(_ first: Tensor, _ second: Tensor) -> Kernels {
        let combined = trunk(first, second)
        return Kernels(vertical1: vertical1(combined), horizontal1: horizontal1(combined),
                       vertical2: vertical2(combined), horizontal2: horizontal2(combined))
    }

    /// The encoder–decoder's features at half resolution that every kernel head reads (Deconv2 + Conv2).
    func trunk(_ first: Tensor, _ second: Tensor) -> Tensor {
        let c1 = conv[0](Tensor.concat([first, second]))
        let c2 = conv[1](c1.avgPool(2)), c3 = conv[2](c2.avgPool(2))
        let c4 = conv[3](c3.avgPool(2)), c5 = conv[4](c4.avgPool(2))
        let d5 = upsample[0](deconv[0](c5.avgPool(2)))
        let d4 = upsample[1](deconv[1](d5 + c5))
        let d3 = upsample[2](deconv[2](d4 + c4))
        let d2 = upsample[3](deconv[3](d3 + c3))
        return d2 + c2
    }

    /// Both frames filtered by their kernels and summed. Each frame is replicate-padded by ⌊K/2⌋ so every output
    /// pixel has a full K×K footprint.
    public func filter(_ first: Tensor, _ second: Tensor, _ k: Kernels) -> Tensor {
        let (a, b) = filteredFrames(first, second, k)
        return a + b
    }

    /// Each frame filtered by its own kernels (their sum is the output).
    public func filteredFrames(_ first: Tensor, _ second: Tensor, _ k: Kernels) -> (Tensor, Tensor) {
        let r = configuration.kernelSize / 2
        let pad1 = first.padded(top: r, bottom: r, left: r, right: r, mode: .replicate)
        let pad2 = second.padded(top: r, bottom: r, left: r, right: r, mode: .replicate)
        return (pad1.separableLocalConv(vertical: k.vertical1, horizontal: k.horizontal1),
                pad2.separableLocalConv(vertical: k.vertical2, horizontal: k.horizontal2))
    }

    /// The configuration of a checkpoint, read from its weight shapes (official or compact).
    public static func configuration(of weights: [String: Tensor]) throws -> Configuration {
        var widths: [Int] = []
        for i in 1...5 {
            guard let w = weights["moduleConv\(i).0.weight"], w.rank == 4 else {
                throw LoadError(source: "SepConv weights", problems: ["missing moduleConv\(i).0.weight"])
            }
            widths.append(w.shape[0])
        }
        guard let head = weights["moduleVertical1.0.weight"], let last = weights["moduleVertical1.7.weight"],
              head.rank == 4, last.rank == 4, last.shape[0] % 2 == 1 else {
            throw LoadError(source: "SepConv weights", problems: ["missing or malformed moduleVertical1 weights"])
        }
        return Configuration(widths: widths, subnetWidth: head.shape[0], kernelSize: last.shape[0])
    }
}

/// SepConv as a frame interpolator: t = ½ only; the pipeline reaches other t by recursive halving.
public final class SepConvInterpolator: FrameInterpolator {
    public static let info = ModelInfo(name: "sepconv", summary: "SepConv (ICCV 2017), compact, trained here; t = ½",
                                       arbitraryT: false, needsWeights: true)
    public var info: ModelInfo { Self.info }
    public let network: SepConv

    public init(network: SepConv) {
        self.network = network
    }

    public convenience init(weights: [String: Tensor]) throws {
        let net = SepConv(try SepConv.configuration(of: weights))
        try net.load(weights, source: "\(Self.info.name) weights")
        self.init(network: net)
    }

    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        let (a, b) = try window.checkedPair()
        let image = Tensor.inferenceMode {
            NetworkIO.image(from: network.interpolate(NetworkIO.input(a, unit: 32), NetworkIO.input(b, unit: 32)), like: a)
        }
        return times.map { _ in image }
    }
}
