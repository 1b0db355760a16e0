import Frames
import Kernels
import NN
import Tensor

/// AdaConv (Niklaus, Mai and Liu, "Video Frame Interpolation via Adaptive Convolution", CVPR 2017): for each output
/// pixel a plain convolutional network reads a 79 × 79 neighbourhood of both frames and predicts one K × 2K kernel (a
/// K × K half per frame, one softmax over both); the pixel is both frames' K × K patches around it weighted by their
/// halves, so motion, resampling and occlusion are one local convolution. Layers as the paper's table:
///
///     conv1 7×7 – BN – ReLU, down1 2×2/2 – ReLU, conv2 5×5 – BN – ReLU, down2 2×2/2 – ReLU,
///     conv3 5×5 – BN – ReLU, down3 2×2/2 – ReLU, conv4 3×3 – BN – ReLU, conv5 4×4 – ReLU, conv6 1×1, softmax
///
/// all unpadded, so a 79² patch shrinks to one pixel (its last row and column are never read: the receptive field is
/// 78², from 39 pixels before the output pixel to 38 after). No code or weights were released; the keys here are the
/// table's layer names (`conv1.weight`, `bn1.running_mean`, `down1.weight`, …).
///
/// The network is evaluated densely: with the down-convolutions' strides removed and every later layer dilated by the
/// product of the strides before it, one pass over the frame padded by the receptive-field margin gives every pixel's
/// kernel, exactly what evaluating each pixel's patch does (the paper's shift-and-stitch). The frames are padded by
/// replication once for the network and once by ⌊K/2⌋ for the local convolution (the author's errata: padding only
/// for the local convolution is fine).
public final class AdaConv: Layer {
    public struct Configuration: Equatable, Sendable {
        /// Widths of conv1 … conv4 (the down-convolution after each keeps its width); the paper's 32, 64, 128, 256.
        public var widths: [Int]
        /// Width of conv5, the 4 × 4 layer (the paper's 2048).
        public var headWidth: Int
        /// Side K of each frame's kernel (odd; the paper's 41, motions up to ±20 px).
        public var kernelSize: Int

        public init(widths: [Int], headWidth: Int, kernelSize: Int) {
            precondition(widths.count == 4 && kernelSize % 2 == 1 && headWidth > 0, "AdaConv: four widths, a head width, an odd kernel")
            self.widths = widths; self.headWidth = headWidth; self.kernelSize = kernelSize
        }
        public static let paper = Configuration(widths: [32, 64, 128, 256], headWidth: 2048, kernelSize: 41)

        /// Multiply-adds per output pixel of the dense network and of the local convolution (3 colour channels).
        public var multiplyAddsPerPixel: Int {
            let w = widths, k2 = kernelSize * kernelSize
            let trunk = 49 * 6 * w[0] + 4 * w[0] * w[0] + 25 * w[0] * w[1] + 4 * w[1] * w[1] + 25 * w[1] * w[2]
                + 4 * w[2] * w[2] + 9 * w[2] * w[3]
            return trunk + 16 * w[3] * headWidth + headWidth * 2 * k2 + 2 * k2 * 3
        }
    }

    /// The receptive field's reach before and after the output pixel (rows and columns alike).
    public static let marginBefore = 39, marginAfter = 38

    public let configuration: Configuration
    public let conv1: Conv2d, bn1: BatchNorm2d, down1: Conv2d
    public let conv2: Conv2d, bn2: BatchNorm2d, down2: Conv2d
    public let conv3: Conv2d, bn3: BatchNorm2d, down3: Conv2d
    public let conv4: Conv2d, bn4: BatchNorm2d
    public let conv5: Conv2d, conv6: Conv2d

    public init(_ configuration: Configuration = .paper, seed: UInt64 = 0) {
        self.configuration = configuration
        var rng = Initializer(seed: seed)
        let w = configuration.widths, k = configuration.kernelSize
        // Convolutions followed by batch norm carry no bias (the norm's own shift takes its place).
        conv1 = Conv2d(6, w[0], kernel: 7, bias: false, init: &rng); bn1 = BatchNorm2d(w[0])
        down1 = Conv2d(w[0], w[0], kernel: 2, init: &rng)
        conv2 = Conv2d(w[0], w[1], kernel: 5, bias: false, init: &rng); bn2 = BatchNorm2d(w[1])
        down2 = Conv2d(w[1], w[1], kernel: 2, init: &rng)
        conv3 = Conv2d(w[1], w[2], kernel: 5, bias: false, init: &rng); bn3 = BatchNorm2d(w[2])
        down3 = Conv2d(w[2], w[2], kernel: 2, init: &rng)
        conv4 = Conv2d(w[2], w[3], kernel: 3, bias: false, init: &rng); bn4 = BatchNorm2d(w[3])
        conv5 = Conv2d(w[3], configuration.headWidth, kernel: 4, init: &rng)
        conv6 = Conv2d(configuration.headWidth, 2 * k * k, kernel: 1, init: &rng)
    }

    public var children: [(String, Layer)] {
        [("conv1", conv1), ("bn1", bn1), ("down1", down1), ("conv2", conv2), ("bn2", bn2), ("down2", down2),
         ("conv3", conv3), ("bn3", bn3), ("down3", down3), ("conv4", conv4), ("bn4", bn4), ("conv5", conv5), ("conv6", conv6)]
    }

    /// Both frames stacked on the channel axis, [N, 6, H, W]: the middle frame.
    public func callAsFunction(_ x: Tensor) -> Tensor { interpolate(x.slice(axis: 1, 0..<3), x.slice(axis: 1, 3..<6)) }

    var batchNorms: [BatchNorm2d] { [bn1, bn2, bn3, bn4] }

    /// Batch statistics (training) or running statistics (inference) in every batch norm.
    public var training: Bool {
        get { bn1.training }
        set { for bn in batchNorms { bn.training = newValue } }
    }

    /// A convolution of the strided network evaluated densely: stride 1, dilated by the strides before it.
    func dense(_ conv: Conv2d, _ x: Tensor, dilation: Int) -> Tensor {
        x.conv2d(conv.weight, bias: conv.bias, dilation: dilation)
    }

    /// conv1 … conv5 densely on frames already padded by the margin ([N, 6, H + 77, W + 77] → [N, conv5, H, W]).
    public func features(_ padded: Tensor) -> Tensor {
        var x = bn1(dense(conv1, padded, dilation: 1)).relu()
        x = dense(down1, x, dilation: 1).relu()
        x = bn2(dense(conv2, x, dilation: 2)).relu()
        x = dense(down2, x, dilation: 2).relu()
        x = bn3(dense(conv3, x, dilation: 4)).relu()
        x = dense(down3, x, dilation: 4).relu()
        x = bn4(dense(conv4, x, dilation: 8)).relu()
        return dense(conv5, x, dilation: 8).relu()
    }

    /// Both frames stacked and padded by the receptive-field margin (replicated edges).
    public static func networkInput(_ first: Tensor, _ second: Tensor) -> Tensor {
        Tensor.concat([first, second]).padded(top: marginBefore, bottom: marginAfter, left: marginBefore, right: marginAfter, mode: .replicate)
    }

    /// Every pixel's kernel, [N, 2K², H, W]: frame 0's K × K taps (row-major), then frame 1's; softmax over all 2K².
    public func kernels(fromPadded padded: Tensor) -> Tensor { conv6(features(padded)).softmaxChannels() }

    /// The middle frame of two [N, 3, H, W] frames (any size), in one pass over the whole frame.
    public func interpolate(_ first: Tensor, _ second: Tensor) -> Tensor {
        filter(first, second, kernels(fromPadded: Self.networkInput(first, second)))
    }

    /// Both frames' K × K patches around each pixel weighted by their halves of the kernels, summed. The frames may
    /// carry extra channels (gradient images for the paper's gradient loss): each is filtered alike.
    public func filter(_ first: Tensor, _ second: Tensor, _ kernels: Tensor) -> Tensor {
        let k = configuration.kernelSize, k2 = k * k, r = k / 2
        let p1 = first.padded(top: r, bottom: r, left: r, right: r, mode: .replicate)
        let p2 = second.padded(top: r, bottom: r, left: r, right: r, mode: .replicate)
        return p1.denseLocalConv(kernels: kernels.slice(axis: 1, 0..<k2), size: k)
            + p2.denseLocalConv(kernels: kernels.slice(axis: 1, k2..<(2 * k2)), size: k)
    }

    /// The middle frame evaluated in bands of `rows` output rows, each with its receptive-field and kernel margins, so
    /// that memory is bounded by the band whatever the frame's height; the bytes equal `interpolate`'s. Inference only:
    /// each band's softmax runs in place and the local convolutions read the two kernel halves where they lie, so a
    /// band's largest tensor is its logits.
    public func interpolateInBands(_ first: Tensor, _ second: Tensor, rows: Int) -> Tensor {
        precondition(rows > 0, "band height must be positive")
        let (n, h, w) = (first.shape[0], first.shape[2], first.shape[3])
        let k = configuration.kernelSize, r = k / 2, k2 = k * k
        let input = Self.networkInput(first, second)
        let p1 = first.padded(top: r, bottom: r, left: r, right: r, mode: .replicate)
        let p2 = second.padded(top: r, bottom: r, left: r, right: r, mode: .replicate)
        var out = [Float](repeating: 0, count: n * 3 * h * w)
        var y0 = 0
        while y0 < h {
            let y1 = min(h, y0 + rows), bh = y1 - y0, plane = bh * w
            var logits = conv6(features(input.slice(axis: 2, y0..<(y1 + Self.marginBefore + Self.marginAfter)))).data
            let band1 = p1.slice(axis: 2, y0..<(y1 + 2 * r)).data, band2 = p2.slice(axis: 2, y0..<(y1 + 2 * r)).data
            var part1 = [Float](repeating: 0, count: 3 * plane), part2 = part1
            for b in 0..<n {
                logits.withUnsafeMutableBufferPointer { l in
                    let kernels = l.baseAddress! + b * 2 * k2 * plane
                    Elementwise.softmaxChannels(kernels, batch: 1, channels: 2 * k2, plane: plane, kernels)
                    let inPlane = 3 * (bh + 2 * r) * (w + 2 * r)
                    band1.withUnsafeBufferPointer { i1 in band2.withUnsafeBufferPointer { i2 in
                        part1.withUnsafeMutableBufferPointer { o1 in part2.withUnsafeMutableBufferPointer { o2 in
                            LocalConvolution.dense(i1.baseAddress! + b * inPlane, kernels: kernels, batch: 1, channels: 3, height: bh,
                                                   width: w, kernel: k, into: o1.baseAddress!)
                            LocalConvolution.dense(i2.baseAddress! + b * inPlane, kernels: kernels + k2 * plane, batch: 1, channels: 3,
                                                   height: bh, width: w, kernel: k, into: o2.baseAddress!)
                        } }
                    } }
                }
                for c in 0..<3 { for y in 0..<bh {
                    let src = (c * bh + y) * w, dst = ((b * 3 + c) * h + y0 + y) * w
                    for x in 0..<w { out[dst + x] = part1[src + x] + part2[src + x] }
                } }
            }
            y0 = y1
        }
        return Tensor(shape: [n, 3, h, w], data: out)
    }

    /// Output rows per band such that a band's logits, conv5's and conv4's features stay within `budget` bytes for
    /// frames `width` pixels wide (at least 16 rows: thinner bands recompute the 77-row margin too often).
    public func bandRows(width: Int, budget: Int) -> Int {
        let c = configuration, k2 = c.kernelSize * c.kernelSize
        let bytesPerRow = (width + Self.marginBefore + Self.marginAfter) * 4 * (2 * k2 + c.headWidth + 2 * c.widths[3])
        return max(16, budget / max(1, bytesPerRow))
    }

    /// The configuration of a checkpoint, read from its weight shapes.
    public static func configuration(of weights: [String: Tensor]) throws -> Configuration {
        var widths: [Int] = []
        for i in 1...4 {
            guard let w = weights["conv\(i).weight"], w.rank == 4 else {
                throw LoadError(source: "AdaConv weights", problems: ["missing conv\(i).weight"])
            }
            widths.append(w.shape[0])
        }
        guard let head = weights["conv5.weight"], let last = weights["conv6.weight"], head.rank == 4, last.rank == 4 else {
            throw LoadError(source: "AdaConv weights", problems: ["missing conv5.weight or conv6.weight"])
        }
        let k = Int(Double(last.shape[0] / 2).squareRoot().rounded())
        guard 2 * k * k == last.shape[0], k % 2 == 1 else {
            throw LoadError(source: "AdaConv weights", problems: ["conv6 has \(last.shape[0]) outputs, not 2K² for an odd K"])
        }
        return Configuration(widths: widths, headWidth: head.shape[0], kernelSize: k)
    }
}

/// AdaConv as a frame interpolator: t = ½ only (the pipeline reaches other t by recursive halving), evaluated in
/// bands of rows so that a frame of any size fits a bounded amount of memory.
public final class AdaConvInterpolator: FrameInterpolator {
    public static let info = ModelInfo(name: "adaconv", summary: "AdaConv (CVPR 2017), compact, trained here; t = ½",
                                       arbitraryT: false, needsWeights: true)
    public var info: ModelInfo { Self.info }
    public let network: AdaConv
    /// Bytes the largest tensors of one band may take.
    public var bandBudget = 512 << 20

    public init(network: AdaConv) {
        self.network = network
        network.training = false
    }

    public convenience init(weights: [String: Tensor]) throws {
        let net = AdaConv(try AdaConv.configuration(of: weights))
        try net.load(weights, source: "\(Self.info.name) weights")
        self.init(network: net)
    }

    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        let (a, b) = try window.checkedPair()
        let image = Tensor.inferenceMode {
            let rows = network.bandRows(width: a.width, budget: bandBudget)
            return NetworkIO.image(from: network.interpolateInBands(NetworkIO.input(a, unit: 1), NetworkIO.input(b, unit: 1), rows: rows), like: a)
        }
        return times.map { _ in image }
    }
}
