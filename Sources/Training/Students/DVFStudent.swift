import Models
import NN
import Tensor

/// Deep Voxel Flow (Liu et al., ICCV 2017) in training: the paper's L1 on the frame with total-variation priors on
/// the voxel flow's displacement and mask, and with a teacher, privileged distillation of both: RIFE's flows from t
/// give the displacement over the gap, D = Fₜ→₁ − Fₜ→₀, and its fusion mask gives the temporal weight.
public final class DVFStudent: TrainableModel {
    public let network: DVF

    /// `width` W: conv1 … conv6 W, 2W, 4W, 4W, 2W, W (the paper's 64); `flow_scale`: the tanh's bound on the
    /// displacement over the gap, pixels; `scales`: 1, or the paper's multi-scale voxel flow over that many scales.
    /// The defaults are the shipped network's.
    public static let entry = TrainableModelEntry(name: "dvf", architectureDefaults: ["width": 8, "flow_scale": Double(DVF.defaultFlowScale), "scales": 3]) { architecture, seed in
        let width = try architecture.count("width"), scales = try architecture.count("scales")
        guard let scale = architecture["flow_scale"], scale > 0 else { throw RecipeError("architecture key \"flow_scale\" must be positive") }
        return DVFStudent(DVF(widths: [1, 2, 4, 4, 2, 1].map { $0 * width }, flowScale: Float(scale), scales: scales, seed: seed))
    }

    public init(_ network: DVF) { self.network = network }

    public var layer: Layer { network }
    public var paperOptimizer: Adam.Variant { .adam }

    public var architectureMetadata: [String: String] {
        ["architecture": network.scales == 1 ? "Deep Voxel Flow" : "Deep Voxel Flow, multi-scale (\(network.scales) scales)",
         "widths": network.widths.map(String.init).joined(separator: ","),
         DVFInterpolator.flowScaleMetadata: "\(network.flowScale)"]
    }

    /// `l1`: the frame against the target. `flow_tv` and `mask_tv`: the paper's total-variation priors (its 0.01 and
    /// 0.005 on normalised coordinates; the displacement here is in pixels, so its weight is divided by 204 as for
    /// Super SloMo's smoothness). `census`: a texture term, as for Super SloMo. With a teacher: `distil_flow`, L1
    /// between D and Fₜ→₁ − Fₜ→₀ in pixels; `distil_mask`, L1 between the weight of frame 0 and the teacher's mask.
    public var defaultLossWeights: [String: Float] {
        ["l1": 1, "flow_tv": 1 / 204, "mask_tv": 0.005, "census": 0.1, "distil_flow": 0.01, "distil_mask": 0.1]
    }

    public func losses(_ batch: TrainingBatch, weights: [String: Float]) -> [(String, Tensor)] {
        let w = defaultLossWeights.merging(weights) { $1 }
        network.training = true
        let flow = network.voxelFlow(batch.first, batch.last)
        let frame = DVF.sample(batch.first, batch.last, flow, t: batch.t)
        var parts: [(String, Tensor)] = [("l1", Loss.l1(frame, batch.middle) * w["l1"]!)]
        if w["flow_tv"]! > 0 { parts.append(("flow_tv", Loss.smoothness(flow.displacement) * w["flow_tv"]!)) }
        if w["mask_tv"]! > 0 { parts.append(("mask_tv", Loss.smoothness(flow.weight0) * w["mask_tv"]!)) }
        if w["census"]! > 0 { parts.append(("census", Loss.census(frame, batch.middle) * w["census"]!)) }
        if let teacher = batch.teacherFlow, w["distil_flow"]! > 0 {
            let target = teacher.slice(axis: 1, 2..<4) - teacher.slice(axis: 1, 0..<2)
            parts.append(("distil_flow", Loss.l1(flow.displacement, target) * w["distil_flow"]!))
        }
        if let mask = batch.teacherMask, w["distil_mask"]! > 0 {
            parts.append(("distil_mask", Loss.l1(flow.weight0, mask) * w["distil_mask"]!))
        }
        return parts
    }

    public func predict(_ first: Tensor, _ last: Tensor, t: Float) -> Tensor {
        network.training = false
        return network.interpolate(first, last, t: t)
    }
}
