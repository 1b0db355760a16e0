import XCTest
@testable import Models
import NN
import Tensor

final class SepConvInitialisationTests: XCTestCase {
    let config = SepConv.Configuration(widths: [4, 4, 8, 8, 8], subnetWidth: 4, kernelSize: 5)
    let first = frames(1), second = frames(2)

    static func frames(_ seed: Int) -> Tensor {
        Tensor(shape: [1, 3, 32, 64], data: (0..<(3 * 32 * 64)).map { Float(($0 * 37 + seed * 101) % 251) / 250 })
    }

    /// The largest difference between the network's middle frame and the mean of the two frames.
    func distanceFromMean(_ net: SepConv) -> Float {
        let out = Tensor.inferenceMode { net.interpolate(first, second) }
        return zip(out.data, zip(first.data, second.data)).map { Swift.abs($0 - ($1.0 + $1.1) / 2) }.max()!
    }

    /// With the heads' last weights zeroed, every kernel is the centred delta √½ ⊗ √½, so the output is exactly the
    /// mean of the two frames (tolerance 1e-6: one product and one sum per pixel in float32).
    func testBlendInitialisationWithZeroWeightsIsTheMeanOfTheFrames() {
        let net = SepConv(config, seed: 3)
        net.initialiseKernelsAsBlend(weightScale: 0)
        XCTAssertLessThanOrEqual(distanceFromMean(net), 1e-6)
    }

    /// The default keeps a tenth of the random weights, so the output starts near the mean but still depends on the
    /// input (gradients reach the whole network): closer to the mean than a random network, and not equal to it.
    func testBlendInitialisationStartsNearTheMean() {
        let random = SepConv(config, seed: 3), blend = SepConv(config, seed: 3)
        blend.initialiseKernelsAsBlend()
        XCTAssertLessThan(distanceFromMean(blend), distanceFromMean(random) / 4)
        XCTAssertGreaterThan(distanceFromMean(blend), 0)
    }

    /// The displacement decoder turns each head's channel into a bilinear tap pair of weight √½ at that displacement:
    /// with the second convolution's weights zeroed its channel 0 is its bias α(d + r), and every pixel's kernel must
    /// be √½(1 − f) at tap r + ⌊d⌋ and √½·f at the next (f the fraction), zero elsewhere, for positive, negative,
    /// zero and whole displacements; the displacement read back is d (float tolerance 1e-5 throughout).
    func testDisplacementDecoderDecodesItsChannelIntoABilinearTapPair() {
        let config = SepConv.Configuration(widths: [4, 4, 8, 8, 8], subnetWidth: 4, kernelSize: 9)
        let (alpha, r) = (Float(1) / 8, 4)
        let net = SepConv(config, seed: 5)
        net.initialiseKernelsAsDisplacementDecoder(alpha: alpha)
        let wanted: [Float] = [2.3, -1.6, 0, 3]   // horizontal1, vertical1, horizontal2, vertical2
        for (head, d) in zip(net.headsByFlowChannel, wanted) {
            let second = head.layers[2] as! Conv2d
            for i in second.weight.data.indices { second.weight.data[i] = 0 }
            second.bias!.data[0] = alpha * (d + Float(r))
        }
        let (kernels, displacements) = Tensor.inferenceMode { net.kernelsAndDisplacements(first, second, alpha: alpha) }
        let plane = 32 * 64
        for (index, (k, d)) in zip([kernels.horizontal1, kernels.vertical1, kernels.horizontal2, kernels.vertical2], wanted).enumerated() {
            XCTAssertEqual(k.shape, [1, 9, 32, 64])
            let u = d + Float(r), lower = Int(u.rounded(.down)), f = u - Float(lower)
            for tap in 0..<9 {
                let expected = tap == lower ? (1 - f) * Float(0.5).squareRoot() : (tap == lower + 1 ? f * Float(0.5).squareRoot() : 0)
                for p in stride(from: 0, to: plane, by: 97) {
                    XCTAssertEqual(k.data[tap * plane + p], expected, accuracy: 1e-5, "head \(index) tap \(tap)")
                }
            }
            XCTAssertEqual(displacements[index].shape, [1, 1, 16, 32])
            for v in displacements[index].data { XCTAssertEqual(v, d, accuracy: 1e-5) }
        }
    }

    /// Started as a decoder, the network sits near a blend: every displacement within 2 px of zero (a tenth of the
    /// random weights stays on the displacement channel) and the output far nearer the mean than a random network's.
    func testDisplacementDecoderStartsNearABlend() {
        let random = SepConv(config, seed: 3), decoder = SepConv(config, seed: 3)
        decoder.initialiseKernelsAsDisplacementDecoder()
        let (_, displacements) = Tensor.inferenceMode { decoder.kernelsAndDisplacements(first, second, alpha: 1 / 16) }
        for d in displacements { XCTAssertLessThan(d.data.map(Swift.abs).max()!, 2) }
        XCTAssertLessThan(distanceFromMean(decoder), distanceFromMean(random) / 4)
    }

    /// A decoder head's taps are second differences of weights near √½/α ≈ 11.3, so rounding each weight to float16
    /// on its own shifts every kernel's sum, and with it the frame's brightness. Stored through
    /// `SepConv.halfPrecisionWeights`, the float16 network's mean output stays within 1e-5 of the float32 network's
    /// (the frames average 0.5), at least ten times nearer than with plain rounding (measured: 2.5e-7 against 1.1e-4).
    func testHalfPrecisionWeightsKeepTheDecoderBrightness() throws {
        let config = SepConv.Configuration(widths: [4, 4, 8, 8, 8], subnetWidth: 4, kernelSize: 25)
        let net = SepConv(config, seed: 7)
        net.initialiseKernelsAsDisplacementDecoder(alpha: 1 / 16)
        let weights = net.stateDict().reduce(into: [String: Tensor]()) { $0[$1.0] = $1.1 }
        func meanOutput(_ stored: [String: Tensor]) throws -> Double {
            let half = try Safetensors.parse(Safetensors.serialise(stored, dtype: .f16)).tensors
            let copy = SepConv(config, seed: 7)
            try copy.load(half, source: "test")
            let out = Tensor.inferenceMode { copy.interpolate(first, second) }
            return out.data.reduce(0.0) { $0 + Double($1) } / Double(out.count)
        }
        let exact = Tensor.inferenceMode { net.interpolate(first, second) }.data.reduce(0.0) { $0 + Double($1) } / Double(first.count)
        let kept = try meanOutput(SepConv.halfPrecisionWeights(weights)), plain = try meanOutput(weights)
        XCTAssertEqual(kept, exact, accuracy: 1e-5)
        XCTAssertLessThan(Swift.abs(kept - exact) * 10, Swift.abs(plain - exact))
    }
}
