import Foundation
import XCTest
import Frames
@testable import Models
import NN
import Tensor

/// Deep Voxel Flow against Tween's PyTorch reference (Scripts/reference/dvf_goldens.py): the voxel flow in inference
/// and training mode (batch norm with running and with batch statistics), and the sampled frames at two t.
final class DVFTests: XCTestCase {
    static let golden = RIFEParityTests.goldens + "/dvf_small.safetensors"
    static let multiScaleGolden = RIFEParityTests.goldens + "/dvf_multiscale_small.safetensors"

    func load(_ path: String = DVFTests.golden) throws -> (Safetensors.File, DVFInterpolator) {
        let g = try Safetensors.read(path)
        var w: [String: Tensor] = [:]
        for (k, v) in g.tensors where k.hasPrefix("weights.") { w[String(k.dropFirst("weights.".count))] = v }
        return (g, try DVFInterpolator(weights: w, metadata: g.metadata))
    }

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.data, b.data).map { Swift.abs($0 - $1) }.max() ?? .infinity
    }

    /// Tolerances: 1e-4 on the tanh outputs (float32 through seven convolutions and batch norms in another summation
    /// order); 1e-4 on frame values (0…1).
    func testMatchesTheReference() throws {
        let (g, interpolator) = try load()
        XCTAssertEqual(interpolator.network.widths, [4, 8, 8, 8, 8, 4])
        XCTAssertEqual(interpolator.network.scales, 1)
        try checkParity(g, interpolator.network)
    }

    /// The multi-scale voxel flow (three scales, the coarser encoder–decoders under `scale1.`, `scale2.`, conv7 fusing
    /// all three), same tolerances.
    func testMultiScaleMatchesTheReference() throws {
        let (g, interpolator) = try load(Self.multiScaleGolden)
        XCTAssertEqual(interpolator.network.widths, [4, 4, 8, 8, 4, 4])
        XCTAssertEqual(interpolator.network.scales, 3)
        XCTAssertEqual(interpolator.network.sizeUnit, 32)
        try checkParity(g, interpolator.network)
        let keys = Set(interpolator.network.stateDict().map(\.0))
        XCTAssertTrue(keys.isSuperset(of: ["conv1.weights", "scale1.conv1.weights", "scale2.conv6.BatchNorm.beta", "conv7.weights"]))
        XCTAssertEqual(keys.count, 3 * 6 * 4 + 2)
    }

    func checkParity(_ g: Safetensors.File, _ net: DVF) throws {
        XCTAssertEqual(net.flowScale, 16, "the flow scale comes from the weight file's metadata")
        let i0 = g.tensors["img0"]!, i1 = g.tensors["img1"]!
        let voxel = Tensor.inferenceMode { net(DVF.input(i0, i1)) }
        XCTAssertLessThanOrEqual(maxError(voxel, g.tensors["out.voxel"]!), 1e-4, "voxel flow")
        let displacement = voxel.slice(axis: 1, 0..<2).data.map { Swift.abs($0) * 16 }
        XCTAssertGreaterThan(displacement.max()!, 2, "the golden's voxel flow should move pixels")
        let flow = Tensor.inferenceMode { net.voxelFlow(i0, i1) }
        for t: Float in [0.5, 0.3] {
            let frame = Tensor.inferenceMode { DVF.sample(i0, i1, flow, t: t) }
            XCTAssertLessThanOrEqual(maxError(frame, g.tensors["out.t\(t).frame"]!), 1e-4, "frame at t = \(t)")
        }
        // Training mode: batch statistics over the pair and the swapped pair.
        net.training = true
        defer { net.training = false }
        let batch = net(DVF.input(Tensor.concat([i0, i1], axis: 0), Tensor.concat([i1, i0], axis: 0)))
        XCTAssertLessThanOrEqual(maxError(batch, g.tensors["out.train.voxel"]!), 1e-4, "voxel flow with batch statistics")
    }

    /// The release's slim names are the checkpoint keys: weights and batch-norm β and moving statistics, conv7's biases.
    func testCheckpointKeysAreTheReleasesSlimScopes() throws {
        let keys = Set(DVF(widths: [4, 8, 8, 8, 8, 4]).stateDict().map(\.0))
        for i in 1...6 {
            for k in ["weights", "BatchNorm.beta", "BatchNorm.moving_mean", "BatchNorm.moving_variance"] {
                XCTAssertTrue(keys.contains("conv\(i).\(k)"), "conv\(i).\(k)")
            }
        }
        XCTAssertTrue(keys.isSuperset(of: ["conv7.weights", "conv7.biases"]))
        XCTAssertEqual(keys.count, 6 * 4 + 2)
        // The moving statistics are buffers, not trained.
        XCTAssertEqual(DVF(widths: [4, 8, 8, 8, 8, 4]).parameters().count, 6 * 2 + 2)
        XCTAssertThrowsError(try DVF.widths(in: [:])) { XCTAssertTrue("\($0)".contains("conv1.weights"), "\($0)") }
    }

    /// Any size (padded to multiples of 8 and cropped back), any t from one voxel-flow pass, and --scale 0.5
    /// predicts the flow at half size.
    func testInterpolatorHandlesAnySizeEveryTAndScale() throws {
        let (_, interpolator) = try load()
        let a = Image(width: 37, height: 21, channels: 3, data: (0..<(3 * 37 * 21)).map { Float($0 % 37) / 37 })
        let b = Image(width: 37, height: 21, channels: 3, data: (0..<(3 * 37 * 21)).map { Float(($0 + 2) % 37) / 37 })
        let frames = try interpolator.interpolate(FrameWindow(left: a, right: b), at: [0.25, 0.5, 0.75])
        XCTAssertEqual(frames.map(\.width), [37, 37, 37]); XCTAssertEqual(frames.map(\.height), [21, 21, 21])
        XCTAssertNotEqual(frames[0].data, frames[2].data, "different t give different frames")
        XCTAssertTrue(interpolator.info.arbitraryT)
        interpolator.scale = 0.5
        let half = try interpolator.interpolate(FrameWindow(left: a, right: b), at: [0.25])
        XCTAssertEqual([half[0].width, half[0].height], [37, 21])
        XCTAssertNotEqual(half[0].data, frames[0].data)
    }

    /// A multi-scale network widened from a single-scale file computes what the file's network did (conv7 reads the
    /// coarser scales through zero weights; their encoder–decoders keep their own initial weights), so a run can go
    /// on from trained single-scale weights.
    func testMultiScaleWidensFromSingleScale() throws {
        let (g, single) = try load()
        var file: [String: Tensor] = [:]
        for (k, v) in g.tensors where k.hasPrefix("weights.") { file[String(k.dropFirst("weights.".count))] = v }
        let multi = DVF(widths: [4, 8, 8, 8, 8, 4], flowScale: 16, scales: 3, seed: 5)
        try multi.loadWidening(file, source: "single")
        multi.training = false
        let i0 = Tensor(shape: [1, 3, 32, 64], data: (0..<(3 * 32 * 64)).map { Float(($0 * 7) % 31) / 31 })
        let i1 = Tensor(shape: [1, 3, 32, 64], data: (0..<(3 * 32 * 64)).map { Float(($0 * 5 + 3) % 29) / 29 })
        let expected = Tensor.inferenceMode { single.network(DVF.input(i0, i1)) }
        let got = Tensor.inferenceMode { multi(DVF.input(i0, i1)) }
        XCTAssertLessThanOrEqual(maxError(got, expected), 1e-6)
        XCTAssertNotEqual(multi.coarser[0].conv1.conv.weight.data.map { Swift.abs($0) }.max(), 0, "the coarser scales keep their own weights")
        // A file that lacks part of a scope it has is still refused.
        file["conv3.BatchNorm.beta"] = nil
        XCTAssertThrowsError(try DVF(widths: [4, 8, 8, 8, 8, 4], scales: 2).loadWidening(file, source: "broken")) {
            XCTAssertTrue("\($0)".contains("missing conv3.BatchNorm.beta"), "\($0)")
        }
    }

    /// Gradients reach every parameter in training mode (the model trains end to end through the sampling).
    func testGradientsReachEveryParameter() throws {
        let net = DVF(widths: [4, 4, 4, 4, 4, 4], flowScale: 8, scales: 2, seed: 3)
        net.training = true
        let a = Tensor(shape: [2, 3, 16, 16], data: (0..<(2 * 3 * 256)).map { Float(($0 * 7) % 31) / 31 })
        let b = Tensor(shape: [2, 3, 16, 16], data: (0..<(2 * 3 * 256)).map { Float(($0 * 5 + 3) % 29) / 29 })
        XCTAssertEqual(net.sizeUnit, 16)
        let out = net.interpolate(a, b, t: 0.5)
        (out * out).sum().backward()
        for (key, p) in net.parameters() {
            XCTAssertNotNil(p.grad, key)
            XCTAssertGreaterThan(p.grad?.data.map { Swift.abs($0) }.max() ?? 0, 0, key)
        }
    }
}
