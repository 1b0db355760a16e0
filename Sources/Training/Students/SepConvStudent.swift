import Models
import NN
import Tensor

/// SepConv (Niklaus et al., ICCV 2017) in training: the paper's L1, and with a teacher, per-frame targets from its
/// flows; the other terms are the kernel-shaping experiments of docs/TRAINING.md, off unless a recipe weighs them.
public final class SepConvStudent: TrainableModel {
    public let network: SepConv
    /// The displacement decoder's α: one unit of a head's displacement channel is 1/α pixels.
    public let displacementScale: Float

    /// `width` W: encoder W, 2W, 4W, 8W, 8W; `head_width`: the kernel heads' width (0: 2W; the paper's 64 for
    /// K = 51); `kernel`: the 1-D kernels' length (odd); `displacement_scale`: the decoder's α.
    public static let entry = TrainableModelEntry(name: "sepconv", architectureDefaults: [
        "width": 8, "head_width": 0, "kernel": 25, "displacement_scale": 1.0 / 16,
    ]) { architecture, seed in
        let width = try architecture.count("width"), kernel = try architecture.count("kernel")
        guard kernel % 2 == 1, kernel >= 3 else { throw RecipeError("architecture key \"kernel\" must be odd and at least 3") }
        let head = architecture["head_width"] == 0 ? 2 * width : try architecture.count("head_width")
        guard let alpha = architecture["displacement_scale"], alpha > 0 else { throw RecipeError("architecture key \"displacement_scale\" must be positive") }
        let config = SepConv.Configuration(widths: [1, 2, 4, 8, 8].map { $0 * width }, subnetWidth: head, kernelSize: kernel)
        return SepConvStudent(SepConv(config, seed: seed), displacementScale: Float(alpha))
    }

    public init(_ network: SepConv, displacementScale: Float = 1 / 16) {
        self.network = network; self.displacementScale = displacementScale
    }

    public var layer: Layer { network }
    public var paperOptimizer: Adam.Variant { .adamax }

    public var architectureMetadata: [String: String] {
        let c = network.configuration
        return ["architecture": "SepConv", "widths": c.widths.map(String.init).joined(separator: ","),
                "kernel_size": "\(c.kernelSize)", "head_width": "\(c.subnetWidth)", "displacement_scale": "\(displacementScale)"]
    }

    /// `l1`: the frame against the truth. With a teacher: `distil`, each frame's filtered half against half of that
    /// frame warped by the teacher's flow; `moment`, each kernel's centre of mass against the teacher's displacement;
    /// `taps`, each kernel against the teacher's displacement as a bilinear tap pair; `displacement`, a decoder head's
    /// displacement against the teacher's. `gain`: the kernels' gain on a flat image against 1 (brightness).
    public var defaultLossWeights: [String: Float] {
        ["l1": 1, "distil": 0.5, "moment": 0, "taps": 0, "displacement": 0, "gain": 0]
    }

    public func losses(_ batch: TrainingBatch, weights: [String: Float]) -> [(String, Tensor)] {
        let w = defaultLossWeights.merging(weights) { $1 }
        let (a, b, teacher) = (batch.first, batch.last, batch.teacherFlow)
        let m = network
        let k: SepConv.Kernels
        var displacementLoss: Tensor?
        if let teacher, w["displacement"]! > 0 {
            let (kernels, displacements) = m.kernelsAndDisplacements(a, b, alpha: displacementScale)
            k = kernels
            let e = (0..<4).map { Self.displacementError(displacements[$0], teacher, channel: $0, radius: m.configuration.kernelSize / 2) }
            displacementLoss = (e[0] + e[1] + e[2] + e[3]) * (w["displacement"]! / 4)
        } else {
            k = m.kernels(a, b)
        }
        let (p1, p2) = m.filteredFrames(a, b, k)
        var parts: [(String, Tensor)] = [("l1", w["l1"]! == 1 ? Loss.l1(p1 + p2, batch.middle) : Loss.l1(p1 + p2, batch.middle) * w["l1"]!)]
        if let teacher, w["distil"]! > 0 {
            // Each frame's filtered contribution should be half of that frame warped by the teacher's flow: a dense
            // per-frame target that says where each frame's kernels must look (the fused L1 alone leaves that
            // ambiguous). Kernel values themselves were a worse target (sparse; measured: no progress).
            let w0 = a.warped(by: teacher.slice(axis: 1, 0..<2), padding: .border) * 0.5
            let w1 = b.warped(by: teacher.slice(axis: 1, 2..<4), padding: .border) * 0.5
            parts.append(("distil", (Loss.l1(p1, w0) + Loss.l1(p2, w1)) * w["distil"]!))
        }
        if let teacher, w["moment"]! > 0 {
            let r = m.configuration.kernelSize / 2
            let e = Self.momentError(k.horizontal1, teacher, channel: 0, radius: r) + Self.momentError(k.vertical1, teacher, channel: 1, radius: r)
                + Self.momentError(k.horizontal2, teacher, channel: 2, radius: r) + Self.momentError(k.vertical2, teacher, channel: 3, radius: r)
            parts.append(("moment", e * w["moment"]!))
        }
        if let teacher, w["taps"]! > 0 {
            let size = m.configuration.kernelSize
            let e = Loss.mse(k.horizontal1, Self.kernelTargets(k.horizontal1, teacher, channel: 0, size: size))
                + Loss.mse(k.vertical1, Self.kernelTargets(k.vertical1, teacher, channel: 1, size: size))
                + Loss.mse(k.horizontal2, Self.kernelTargets(k.horizontal2, teacher, channel: 2, size: size))
                + Loss.mse(k.vertical2, Self.kernelTargets(k.vertical2, teacher, channel: 3, size: size))
            parts.append(("taps", e * w["taps"]!))
        }
        if let displacementLoss { parts.append(("displacement", displacementLoss)) }
        if w["gain"]! > 0 { parts.append(("gain", Self.kernelGainError(k) * w["gain"]!)) }
        return parts
    }

    public func predict(_ first: Tensor, _ last: Tensor, t: Float) -> Tensor { network.interpolate(first, last) }

    /// `blend` (`blend_scale`, default 0.1: the factor on the heads' last weights) starts the kernel heads at a blend
    /// of the inputs; `displacement_decoder` rewrites them into displacement decoders (docs/MODELS.md).
    public var namedStarts: [String: Set<String>] { ["blend": ["blend_scale"], "displacement_decoder": []] }

    public func applyStart(_ name: String, settings: [String: Double]) throws -> String {
        switch name {
        case "blend":
            let scale = Float(settings["blend_scale"] ?? 0.1)
            guard (0...1).contains(scale) else { throw RecipeError("init.settings.blend_scale must be 0 to 1") }
            network.initialiseKernelsAsBlend(weightScale: scale)
            return "blend, last weights ×\(scale)"
        case "displacement_decoder":
            network.initialiseKernelsAsDisplacementDecoder(alpha: displacementScale)
            return "displacement decoder"
        default:
            throw RecipeError("init.start \"\(name)\" is not one of sepconv's (\(namedStarts.keys.sorted().joined(separator: ", ")))")
        }
    }

    public func halfPrecisionWeights(_ weights: [String: Tensor]) -> [String: Tensor] { SepConv.halfPrecisionWeights(weights) }

    /// Mean |Σᵢ (i − r)·kᵢ − d·Σᵢ kᵢ| over pixels for 1-D kernels [N, 2r+1, H, W] against one channel of the teacher's
    /// flow (the displacement d along the kernel's axis, clamped to the reach ±r): zero when the kernel's centre of
    /// mass sits on the teacher's displacement. Unlike the filtered-frame losses its gradient does not depend on the
    /// image's texture, so flat regions and motions beyond a texture's period still say which way the weight must move.
    static func momentError(_ kernels: Tensor, _ flow: Tensor, channel: Int, radius r: Int) -> Tensor {
        let k = 2 * r + 1
        let weights = Tensor(shape: [2, k, 1, 1], data: [Float](repeating: 1, count: k) + (0..<k).map { Float($0 - r) })
        let moments = kernels.conv2d(weights)
        let d = flow.slice(axis: 1, channel..<(channel + 1))
        let target = Tensor(shape: d.shape, data: d.data.map { min(Float(r), max(-Float(r), $0)) })
        return Loss.l1(moments.slice(axis: 1, 1..<2), target * moments.slice(axis: 1, 0..<1))
    }

    /// Mean over pixels of (Σv₁·Σh₁ + Σv₂·Σh₂ − 1)²: how far the kernels' gain on a flat image is from 1.
    static func kernelGainError(_ k: SepConv.Kernels) -> Tensor {
        let size = k.vertical1.shape[1]
        let ones = Tensor(shape: [1, size, 1, 1], data: [Float](repeating: 1, count: size))
        let gain = k.vertical1.conv2d(ones) * k.horizontal1.conv2d(ones) + k.vertical2.conv2d(ones) * k.horizontal2.conv2d(ones)
        return (gain + -1).squared().mean()
    }

    /// Mean |d − f| over pixels between one head's displacement [N, 1, H/2, W/2] (half resolution, full-resolution
    /// pixels) and one channel of the teacher's flow [N, 4, H, W], averaged over 2 × 2 blocks and clamped to the
    /// kernel's reach ±r.
    static func displacementError(_ displacement: Tensor, _ flow: Tensor, channel: Int, radius r: Int) -> Tensor {
        let f = flow.slice(axis: 1, channel..<(channel + 1)).avgPool(2)
        let target = Tensor(shape: f.shape, data: f.data.map { min(Float(r), max(-Float(r), $0)) })
        return Loss.l1(displacement, target)
    }

    /// One head's 1-D kernels [N, K, H, W] as they should be for one channel of the teacher's flow: a bilinear tap pair
    /// at the displacement (clamped to ±⌊K/2⌋) of weight √½, signed like the head's own kernels (a head whose taps are
    /// negative, as the paper's unconstrained heads may learn, keeps its sign: only the product of a frame's two
    /// kernels is seen in the frame). Squared error, unlike the L1 tried first (no progress in 700 steps), lets the two
    /// non-zero taps dominate the gradient instead of the K − 2 that are already near zero.
    static func kernelTargets(_ kernels: Tensor, _ flow: Tensor, channel: Int, size k: Int) -> Tensor {
        let (n, h, w) = (flow.shape[0], flow.shape[2], flow.shape[3])
        let r = Float(k / 2), plane = h * w
        let sign: Float = kernels.data.reduce(0, +) < 0 ? -1 : 1
        let weight = sign * Float(0.5).squareRoot()
        var out = [Float](repeating: 0, count: n * k * plane)
        for b in 0..<n {
            for p in 0..<plane {
                let u = min(r, max(-r, flow.data[(b * 4 + channel) * plane + p])) + r
                let i0 = min(Int(u), k - 1), f = u - Float(i0)
                out[(b * k + i0) * plane + p] += weight * (1 - f)
                if i0 + 1 < k { out[(b * k + i0 + 1) * plane + p] += weight * f }
            }
        }
        return Tensor(shape: [n, k, h, w], data: out)
    }
}
