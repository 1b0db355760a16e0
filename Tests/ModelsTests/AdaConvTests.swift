import Foundation
import XCTest
import Frames
@testable import Models
import NN
import Tensor

/// AdaConv evaluated densely (dilated convolutions, one pass) against Tween's PyTorch reference, which runs the
/// paper's strided network on every pixel's 79 × 79 patch (Scripts/reference/adaconv_goldens.py).
final class AdaConvTests: XCTestCase {
    static let golden = RIFEParityTests.goldens + "/adaconv_small.safetensors"

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.data, b.data).map { Swift.abs($0 - $1) }.max() ?? .infinity
    }

    func load() throws -> (Safetensors.File, AdaConvInterpolator) {
        let g = try Safetensors.read(Self.golden)
        var w: [String: Tensor] = [:]
        for (k, v) in g.tensors where k.hasPrefix("weights.") { w[String(k.dropFirst("weights.".count))] = v }
        return (g, try AdaConvInterpolator(weights: w))
    }

    /// Tolerances: 1e-6 on kernel taps (values about 0.02–0.3; float32 through eight convolutions in another summation
    /// order, then a softmax) and 1e-5 on frame values (0…1).
    func testDenseEvaluationMatchesThePatchByPatchReference() throws {
        let (g, interpolator) = try load()
        let net = interpolator.network
        XCTAssertEqual(net.configuration, AdaConv.Configuration(widths: [4, 4, 8, 8], headWidth: 8, kernelSize: 5))
        let i0 = g.tensors["img0"]!, i1 = g.tensors["img1"]!
        let kernels = Tensor.inferenceMode { net.kernels(fromPadded: AdaConv.networkInput(i0, i1)) }
        XCTAssertLessThanOrEqual(maxError(kernels, g.tensors["out.kernels"]!), 1e-6, "kernels")
        XCTAssertGreaterThan(kernels.data.max()!, 0.05, "the golden's kernels should be far from uniform (1/50)")
        let frame = Tensor.inferenceMode { net.interpolate(i0, i1) }
        XCTAssertLessThanOrEqual(maxError(frame, g.tensors["out.frame"]!), 1e-5, "frame")
    }

    /// Bands of rows, each with its margins, give exactly the bytes of one pass over the frame, for band heights that
    /// do and do not divide the frame's.
    func testBandsGiveTheBytesOfOnePass() throws {
        let net = AdaConv(.init(widths: [4, 4, 8, 8], headWidth: 8, kernelSize: 5), seed: 4)
        net.training = false
        for i in net.conv6.weight.data.indices { net.conv6.weight.data[i] *= 20 }
        let (h, w) = (37, 29)
        let a = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { Float(($0 * 7) % 31) / 31 })
        let b = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { Float(($0 * 5 + 3) % 29) / 29 })
        let whole = Tensor.inferenceMode { net.interpolate(a, b) }
        for rows in [7, 10, 36] {
            let banded = Tensor.inferenceMode { net.interpolateInBands(a, b, rows: rows) }
            XCTAssertEqual(banded.shape, whole.shape)
            XCTAssertTrue(banded.data == whole.data, "bands of \(rows) rows")
        }
    }

    /// The band height follows the memory budget (logits, conv5's and conv4's features per row), never below 16 rows.
    func testBandRowsFollowTheBudget() {
        let net = AdaConv(.init(widths: [16, 32, 64, 128], headWidth: 64, kernelSize: 21))
        let bytesPerRow = (1920 + 77) * 4 * (2 * 441 + 64 + 256)
        XCTAssertEqual(net.bandRows(width: 1920, budget: 512 << 20), (512 << 20) / bytesPerRow)
        XCTAssertEqual(net.bandRows(width: 1920, budget: 1 << 20), 16)
        // The paper's network: 15.92 M multiply-adds per pixel densely (MODEL_CARDS' sum), plus 2 · 41² · 3 for the
        // local convolution.
        XCTAssertEqual(AdaConv.Configuration.paper.multiplyAddsPerPixel, 15_920_320 + 10_086)
    }

    /// The decoder start: conv5's ramps of each displacement component and the gate at its start value make each frame's
    /// half of the kernel the sampled Gaussian exp(−β|p − d|²) around its displacement, whatever conv5's other channels
    /// hold; the frames' shares are equal when their displacements have the same fractions, and within e^{β/4} of each
    /// other otherwise. Tolerance 1e-5 on each normalised tap.
    func testDisplacementDecoderMakesAGaussianAroundEachFramesDisplacement() {
        let (k, alpha, beta): (Int, Float, Float) = (9, 1 / 16, 3)
        let head = AdaConv.decoderChannels(kernelSize: k) + 3
        let net = AdaConv(.init(widths: [4, 4, 4, 4], headWidth: head, kernelSize: k), seed: 2)
        net.initialiseKernelsAsDisplacementDecoder(alpha: alpha, beta: beta, residualScale: 0)
        let r = Float(k / 2)
        for d: [Float] in [[1.5, -2, -1.5, 2], [0.25, -2.6, 3.3, 0]] {   // dx, dy of frame 0, then of frame 1
            var features = [Float](repeating: 0.7, count: head)
            for c in 0..<4 { for j in 0..<k { features[c * k + j] = alpha * max(0, d[c] + r - Float(j)) } }
            features[4 * k] = 1
            let kernels = net.conv6(Tensor(shape: [1, head, 1, 1], data: features)).softmaxChannels().data
            var shares: [Float] = []
            for f in 0..<2 {
                let half = Array(kernels[(f * k * k)..<((f + 1) * k * k)]), share = half.reduce(0, +)
                shares.append(share)
                var gaussian: [Float] = []
                for i in 0..<k { for j in 0..<k {
                    let (u, v) = (Float(j) - r - d[2 * f], Float(i) - r - d[2 * f + 1])
                    gaussian.append(Foundation.exp(-beta * (u * u + v * v)))
                } }
                let total = gaussian.reduce(0, +)
                for t in 0..<(k * k) { XCTAssertEqual(half[t] / share, gaussian[t] / total, accuracy: 1e-5, "d \(d), frame \(f), tap \(t)") }
            }
            if d == [1.5, -2, -1.5, 2] { XCTAssertEqual(shares[0], 0.5, accuracy: 1e-5) }
            XCTAssertLessThan(max(shares[0], shares[1]) / min(shares[0], shares[1]), Foundation.exp(beta / 4) * 1.3)
        }
    }

    /// Keys are the paper's layer names; convolutions before a batch norm carry no bias.
    func testCheckpointKeysAreTheTablesLayerNames() {
        let keys = Set(AdaConv(.init(widths: [4, 4, 4, 4], headWidth: 6, kernelSize: 3)).stateDict().map(\.0))
        XCTAssertEqual(keys, Set(["conv1.weight", "conv2.weight", "conv3.weight", "conv4.weight"]
            + (1...4).flatMap { i in ["weight", "bias", "running_mean", "running_var"].map { "bn\(i).\($0)" } }
            + (1...3).flatMap { ["down\($0).weight", "down\($0).bias"] }
            + ["conv5.weight", "conv5.bias", "conv6.weight", "conv6.bias"]))
    }

    /// Gradients reach every parameter in training mode, through the softmax and the local convolution.
    func testGradientsReachEveryParameter() {
        let net = AdaConv(.init(widths: [4, 4, 4, 4], headWidth: 6, kernelSize: 5), seed: 3)
        net.training = true
        let a = Tensor(shape: [2, 3, 12, 12], data: (0..<(2 * 3 * 144)).map { Float(($0 * 7) % 31) / 31 })
        let b = Tensor(shape: [2, 3, 12, 12], data: (0..<(2 * 3 * 144)).map { Float(($0 * 5 + 3) % 29) / 29 })
        let out = net.interpolate(a, b)
        (out * out).sum().backward()
        for (key, p) in net.parameters() {
            XCTAssertGreaterThan(p.grad?.data.map { Swift.abs($0) }.max() ?? 0, 0, key)
        }
    }

    /// Any frame size: the interpolator pads nothing and returns the frame's size.
    func testInterpolatorHandlesOddSizes() throws {
        let (_, interpolator) = try load()
        interpolator.bandBudget = 1
        let a = Image(width: 13, height: 9, channels: 3, data: (0..<(3 * 117)).map { Float($0 % 11) / 11 })
        let b = Image(width: 13, height: 9, channels: 3, data: (0..<(3 * 117)).map { Float($0 % 7) / 7 })
        let out = try interpolator.interpolate(FrameWindow(left: a, right: b), at: [0.5])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].width, 13); XCTAssertEqual(out[0].height, 9)
    }
}
