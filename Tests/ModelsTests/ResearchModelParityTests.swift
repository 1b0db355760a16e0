import Foundation
import XCTest
import Frames
@testable import Models
import NN
import Tensor

/// Super SloMo and SepConv against Tween's PyTorch reference implementations (Scripts/reference/model_goldens.py).
/// The weights in each golden went through Scripts/convert_checkpoint.py from an official-format checkpoint.
final class ResearchModelParityTests: XCTestCase {
    static let goldens = RIFEParityTests.goldens

    func weights(_ file: Safetensors.File) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in file.tensors where k.hasPrefix("weights.") { out[String(k.dropFirst("weights.".count))] = v }
        return out
    }

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.data, b.data).map { Swift.abs($0 - $1) }.max() ?? .infinity
    }

    /// Tolerances: float32 with different summation orders through two U-Nets and three warps: 1e-3 px of flow and
    /// 1e-4 in frame values (0…1).
    func testSuperSloMoMatchesTheReference() throws {
        let g = try Safetensors.read(Self.goldens + "/superslomo_small.safetensors")
        let w = weights(g)
        XCTAssertEqual(try SuperSloMo.widths(in: w), [4, 8, 8, 16, 16, 16])
        let interpolator = try SuperSloMoInterpolator(weights: w)
        let net = interpolator.network
        let i0 = SuperSloMo.normalised(g.tensors["img0"]!), i1 = SuperSloMo.normalised(g.tensors["img1"]!)
        let flows = Tensor.inferenceMode { net.bidirectionalFlow(i0, i1) }
        XCTAssertLessThanOrEqual(maxError(flows.f01, g.tensors["out.f01"]!), 1e-3, "F0→1")
        XCTAssertLessThanOrEqual(maxError(flows.f10, g.tensors["out.f10"]!), 1e-3, "F1→0")
        XCTAssertGreaterThan(g.tensors["out.f01"]!.data.map { Swift.abs($0) }.max()!, 2, "the golden's flows should move pixels")
        for t: Float in [0.5, 0.3] {
            let s = Tensor.inferenceMode { net.synthesise(flows, t: t) }
            XCTAssertLessThanOrEqual(maxError(s.flowT0, g.tensors["out.t\(t).flowT0"]!), 1e-3, "Fₜ→₀ at t = \(t)")
            XCTAssertLessThanOrEqual(maxError(SuperSloMo.denormalised(s.frame), g.tensors["out.t\(t).frame"]!), 1e-4, "frame at t = \(t)")
        }
    }

    /// Tolerance: 1e-4 relative to the output's scale (the per-pixel filters sum 2·7·7 products per value).
    func testSepConvMatchesTheReference() throws {
        let g = try Safetensors.read(Self.goldens + "/sepconv_small.safetensors")
        let w = weights(g)
        XCTAssertEqual(try SepConv.configuration(of: w), SepConv.Configuration(widths: [4, 8, 8, 16, 16], subnetWidth: 8, kernelSize: 7))
        let interpolator = try SepConvInterpolator(weights: w)
        let out = Tensor.inferenceMode { interpolator.network.interpolate(g.tensors["img0"]!, g.tensors["img1"]!) }
        let expected = g.tensors["out.frame"]!
        let scale = expected.data.map { Swift.abs($0) }.max()!
        XCTAssertLessThanOrEqual(maxError(out, expected), 1e-4 * max(1, scale))
    }

    /// Frames whose size is not a multiple of 32 are padded and cropped back; several t share one flow pass.
    func testInterpolatorsHandleAnySizeAndEveryT() throws {
        let ssm = try SuperSloMoInterpolator(weights: weights(try Safetensors.read(Self.goldens + "/superslomo_small.safetensors")))
        let sep = try SepConvInterpolator(weights: weights(try Safetensors.read(Self.goldens + "/sepconv_small.safetensors")))
        let a = Image(width: 37, height: 21, channels: 3, data: (0..<(3 * 37 * 21)).map { Float($0 % 37) / 37 })
        let b = Image(width: 37, height: 21, channels: 3, data: (0..<(3 * 37 * 21)).map { Float(($0 + 2) % 37) / 37 })
        let frames = try ssm.interpolate(FrameWindow(left: a, right: b), at: [0.25, 0.5, 0.75])
        XCTAssertEqual(frames.count, 3)
        XCTAssertEqual(frames.map(\.width), [37, 37, 37]); XCTAssertEqual(frames[0].height, 21)
        XCTAssertNotEqual(frames[0].data, frames[2].data, "different t give different frames")
        XCTAssertTrue(ssm.info.arbitraryT); XCTAssertFalse(sep.info.arbitraryT)
        // Flow at half resolution (--scale 0.5): same size out, a different estimate.
        ssm.scale = 0.5
        let half = try ssm.interpolate(FrameWindow(left: a, right: b), at: [0.25])
        XCTAssertEqual(half[0].width, 37); XCTAssertEqual(half[0].height, 21)
        XCTAssertNotEqual(half[0].data, frames[0].data)
        let mid = try sep.interpolate(FrameWindow(left: a, right: b), at: [0.5])
        XCTAssertEqual(mid[0].width, 37); XCTAssertEqual(mid[0].height, 21)
    }

    func testCompactCheckpointIntoTheWrongModelIsRefused() throws {
        let w = weights(try Safetensors.read(Self.goldens + "/superslomo_small.safetensors"))
        XCTAssertThrowsError(try SepConvInterpolator(weights: w)) { XCTAssertTrue("\($0)".contains("moduleConv1"), "\($0)") }
        XCTAssertThrowsError(try SuperSloMo(widths: [8, 8, 8, 8, 8, 8]).load(w, source: "small.safetensors")) {
            XCTAssertTrue("\($0)".hasPrefix("small.safetensors: does not match the model"), "\($0)")
        }
    }
}
