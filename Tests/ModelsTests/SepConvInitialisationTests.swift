import XCTest
@testable import Models
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
}
