import Foundation
import XCTest
@testable import Models
import NN
import Tensor

/// Tween's IFNet HDv3 against the official PyTorch code (Scripts/reference/rife_goldens.py).
final class RIFEParityTests: XCTestCase {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/goldens").path

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.data, b.data).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    func compare(_ net: IFNetHDv3, _ file: Safetensors.File, flowTolerance: Float, frameTolerance: Float) {
        let out = Tensor.inferenceMode { net.interpolate(file.tensors["img0"]!, file.tensors["img1"]!) }
        XCTAssertLessThanOrEqual(maxError(out.flow, file.tensors["out.flow"]!), flowTolerance, "flow")
        XCTAssertLessThanOrEqual(maxError(out.mask, file.tensors["out.mask"]!), frameTolerance, "mask")
        XCTAssertLessThanOrEqual(maxError(out.frame, file.tensors["out.frame"]!), frameTolerance, "frame")
    }

    /// Seeded random weights at width 16: always runs. Tolerances: float32 through three refinement stages
    /// with warps in between, summed in different orders: 1e-3 px of flow, 1e-4 in frame values (0…1).
    func testSmallNetworkMatchesTheReference() throws {
        let file = try Safetensors.read(Self.goldens + "/rife_hdv3_small.safetensors")
        let net = IFNetHDv3(width: 16)
        var weights: [String: Tensor] = [:]
        for (k, v) in file.tensors where k.hasPrefix("weights.") { weights[String(k.dropFirst("weights.".count))] = v }
        try net.load(weights)
        compare(net, file, flowTolerance: 1e-3, frameTolerance: 1e-4)
        // Each block averages both frame orders, so swapping the frames gives the same frame (what
        // `ModelInfo.swapSymmetric` claims; tolerance 1e-5: σ(−x) against 1 − σ(x) and sums in another order).
        let (a, b) = (file.tensors["img0"]!, file.tensors["img1"]!)
        let (forward, swapped) = Tensor.inferenceMode { (net.interpolate(a, b).frame, net.interpolate(b, a).frame) }
        XCTAssertLessThanOrEqual(maxError(forward, swapped), 1e-5)
    }

    /// The official weights, when Scripts/fetch-rife.sh has installed them (they are not in the repository).
    func testOfficialWeightsMatchTheReference() throws {
        let env = ProcessInfo.processInfo.environment
        let dir = env["TWEEN_WEIGHTS"] ?? ((env["XDG_DATA_HOME"] ?? NSHomeDirectory() + "/.local/share") + "/tween/models")
        let path = dir + "/rife-hdv3.safetensors"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("RIFE weights not installed (Scripts/fetch-rife.sh)") }
        let net = IFNetHDv3()
        try net.load(try Safetensors.read(path).tensors)
        compare(net, try Safetensors.read(Self.goldens + "/rife_hdv3_official.safetensors"), flowTolerance: 1e-3, frameTolerance: 1e-4)
    }

    func testWrongCheckpointIsRefusedWithEveryProblem() {
        let net = IFNetHDv3(width: 16)
        XCTAssertThrowsError(try net.load(["block0.conv0.0.0.weight": Tensor(zeros: [1])], source: "x.safetensors")) {
            let text = "\($0)"
            XCTAssertTrue(text.hasPrefix("x.safetensors: does not match the model (160 problems)"), text)
        }
    }
}

extension RIFEParityTests {
    /// Practical-RIFE v4.25 with the official weights (when installed), at t = ½ and t = 0.3.
    func testV425MatchesTheReference() throws {
        let env = ProcessInfo.processInfo.environment
        let dir = env["TWEEN_WEIGHTS"] ?? ((env["XDG_DATA_HOME"] ?? NSHomeDirectory() + "/.local/share") + "/tween/models")
        let path = dir + "/rife-v4.25.safetensors"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("RIFE weights not installed (Scripts/fetch-rife.sh)") }
        let net = IFNetV4()
        try net.load(try Safetensors.read(path).tensors, ignoring: IFNetV4.trainingOnly)
        let g = try Safetensors.read(Self.goldens + "/rife_v4.25_official.safetensors")
        for t: Float in [0.5, 0.3] {
            let out = Tensor.inferenceMode { net.interpolate(g.tensors["img0"]!, g.tensors["img1"]!, t: t) }
            XCTAssertLessThanOrEqual(maxError(out.flow, g.tensors["out.t\(t).flow"]!), 1e-3, "flow at t = \(t)")
            XCTAssertLessThanOrEqual(maxError(out.frame, g.tensors["out.t\(t).frame"]!), 1e-4, "frame at t = \(t)")
        }
    }
}
