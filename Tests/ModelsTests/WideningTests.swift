import XCTest
@testable import Models
import NN
import Tensor

/// `Layer.loadWidening`: a wider network loaded from a narrower one computes what the narrower one did, and then
/// differs from it once its new channels' outgoing weights move away from zero (so they are connected, not dead).
final class WideningTests: XCTestCase {
    static func frame(_ seed: Int, height: Int = 64, width: Int = 64) -> Tensor {
        Tensor(shape: [1, 3, height, width], data: (0..<(3 * height * width)).map { Float(($0 * 37 + seed * 101) % 251) / 250 - 0.4 })
    }
    let first = frame(1), second = frame(2)

    static func weights(_ layer: Layer) -> [String: Tensor] { Dictionary(uniqueKeysWithValues: layer.stateDict()) }

    static func largestDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.data, b.data).map { Swift.abs($0 - $1) }.max()!
    }

    /// Super SloMo's U-Nets concatenate skips; both U-Nets at 1.5× width must give the narrow network's flows and
    /// frame. Tolerance 1e-4: the same sums in float32, with zero terms added in another order.
    func testWidenedSuperSloMoComputesTheNarrowNetworksFrameAndFlows() throws {
        let narrow = SuperSloMo(widths: [4, 8, 16, 32, 64, 64], linearOutput: true, seed: 1)
        let wide = SuperSloMo(widths: [6, 12, 24, 48, 96, 96], linearOutput: true, seed: 2)
        try wide.loadWidening(Self.weights(narrow), source: "narrow", inputParts: SuperSloMo.inputParts(ofWeight:))
        let (a, b) = Tensor.inferenceMode { () -> (SuperSloMo.Synthesis, SuperSloMo.Synthesis) in
            let p = narrow.bidirectionalFlow(first, second), q = wide.bidirectionalFlow(first, second)
            return (narrow.synthesise(p, t: 0.3), wide.synthesise(q, t: 0.3))
        }
        XCTAssertLessThanOrEqual(Self.largestDifference(a.frame, b.frame), 1e-4)
        XCTAssertLessThanOrEqual(Self.largestDifference(a.flowT0, b.flowT0), 1e-4)
        // The test means something only if the narrow network's output is not trivially flat.
        XCTAssertGreaterThan(Self.largestDifference(a.flowT0, Tensor(shape: a.flowT0.shape, data: [Float](repeating: 0, count: a.flowT0.count))), 1e-3)

        // Without the skip parts the old weights land on the wrong channels and the output changes.
        let misread = SuperSloMo(widths: [6, 12, 24, 48, 96, 96], linearOutput: true, seed: 2)
        try misread.loadWidening(Self.weights(narrow), source: "narrow")
        let c = Tensor.inferenceMode { misread.synthesise(misread.bidirectionalFlow(first, second), t: 0.3) }
        XCTAssertGreaterThan(Self.largestDifference(a.frame, c.frame), 1e-3)
    }

    /// SepConv with displacement-decoder heads (additive skips, wider trunk and heads): the same middle frame
    /// (tolerance 1e-4 as above).
    func testWidenedSepConvComputesTheNarrowNetworksFrame() throws {
        let narrow = SepConv(.init(widths: [4, 8, 16, 32, 32], subnetWidth: 8, kernelSize: 9), seed: 3)
        narrow.initialiseKernelsAsDisplacementDecoder(alpha: 1.0 / 8)
        let wide = SepConv(.init(widths: [6, 12, 24, 48, 48], subnetWidth: 12, kernelSize: 9), seed: 4)
        try wide.loadWidening(Self.weights(narrow), source: "narrow")
        let (a, b) = Tensor.inferenceMode { (narrow.interpolate(first, second), wide.interpolate(first, second)) }
        XCTAssertLessThanOrEqual(Self.largestDifference(a, b), 1e-4)
        XCTAssertGreaterThan(Self.largestDifference(a, first), 1e-2)
    }

    /// A wider file is refused with every offending key named.
    func testNarrowingIsRefused() {
        let narrow = SepConv(.init(widths: [4, 8, 16, 32, 32], subnetWidth: 8, kernelSize: 9), seed: 3)
        let wide = SepConv(.init(widths: [6, 12, 24, 48, 48], subnetWidth: 12, kernelSize: 9), seed: 4)
        XCTAssertThrowsError(try narrow.loadWidening(Self.weights(wide), source: "wide.safetensors")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("wide.safetensors: does not match the model"), text)
            XCTAssertTrue(text.contains("moduleConv1.0.weight: shape [6, 6, 3, 3] in the file cannot widen to [4, 6, 3, 3]"), text)
        }
    }
}
