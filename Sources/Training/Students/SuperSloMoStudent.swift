import Models
import NN
import Tensor

/// Super SloMo (Jiang et al., CVPR 2018) in training: the paper's losses, with census in place of the perceptual
/// term and the teacher's flows from t as privileged distillation (docs/TRAINING.md).
public final class SuperSloMoStudent: TrainableModel {
    public let network: SuperSloMo

    /// `width`: the U-Nets' base width W (W, 2W, 4W, 8W, 16W, 16W; 32 is the paper's size).
    public static let entry = TrainableModelEntry(name: "superslomo", architectureDefaults: ["width": 8]) { architecture, seed in
        let width = try architecture.count("width")
        return SuperSloMoStudent(SuperSloMo(widths: [1, 2, 4, 8, 16, 16].map { $0 * width }, linearOutput: true, seed: seed))
    }

    public init(_ network: SuperSloMo) { self.network = network }

    public var layer: Layer { network }
    public var paperOptimizer: Adam.Variant { .adam }
    /// Every fourth step is a batch at one t in {1/8, …, 7/8} (9-frame windows and synthetic scenes).
    public var otherTimeEvery: Int { 4 }

    public var architectureMetadata: [String: String] {
        ["architecture": "Super SloMo", "widths": network.widths.map(String.init).joined(separator: ","),
         SuperSloMo.outputMetadata.0: SuperSloMo.outputMetadata.1]
    }

    /// The paper's λr 0.8, λw 0.4 and λs 1 rescaled: reconstruction and warping keep its 2 : 1, smoothness on pixel
    /// flows is divided by 204 so it does not swamp the L1; census stands in for the VGG term (nothing is downloaded);
    /// `distil` weighs the L1 between the student's flows from t and the teacher's, in pixels.
    public var defaultLossWeights: [String: Float] { ["rec": 1, "warp": 0.5, "smooth": 1 / 204, "census": 0.1, "distil": 0.01] }

    public func losses(_ batch: TrainingBatch, weights: [String: Float]) -> [(String, Tensor)] {
        let w = defaultLossWeights.merging(weights) { $1 }
        let i0 = SuperSloMo.normalised(batch.first), i1 = SuperSloMo.normalised(batch.last), it = SuperSloMo.normalised(batch.middle)
        let flows = network.bidirectionalFlow(i0, i1)
        let s = network.synthesise(flows, t: batch.t)
        var parts: [(String, Tensor)] = [("rec", Loss.l1(s.frame, it) * w["rec"]!)]
        if w["warp"]! > 0 {
            let warp = Loss.l1(i0.warped(by: s.approxT0, padding: .zeros), it) + Loss.l1(i1.warped(by: s.approxT1, padding: .zeros), it)
                + Loss.l1(i0.warped(by: flows.f10, padding: .zeros), i1) + Loss.l1(i1.warped(by: flows.f01, padding: .zeros), i0)
            parts.append(("warp", warp * w["warp"]!))
        }
        if w["smooth"]! > 0 {
            parts.append(("smooth", (Loss.smoothness(flows.f01) + Loss.smoothness(flows.f10)) * w["smooth"]!))
        }
        if w["census"]! > 0 {
            parts.append(("census", Loss.census(SuperSloMo.denormalised(s.frame), batch.middle) * w["census"]!))
        }
        if let teacher = batch.teacherFlow, w["distil"]! > 0 {
            let t0 = teacher.slice(axis: 1, 0..<2), t1 = teacher.slice(axis: 1, 2..<4)
            // Both the refined flows and the linear estimates from F₀→₁, F₁→₀ follow the teacher, so the flow U-Net
            // gets a full-magnitude target from the first step.
            let d = Loss.l1(s.flowT0, t0) + Loss.l1(s.flowT1, t1) + Loss.l1(s.approxT0, t0) + Loss.l1(s.approxT1, t1)
            parts.append(("distil", d * w["distil"]!))
        }
        return parts
    }

    public func predict(_ first: Tensor, _ last: Tensor, t: Float) -> Tensor {
        let flows = network.bidirectionalFlow(SuperSloMo.normalised(first), SuperSloMo.normalised(last))
        return SuperSloMo.denormalised(network.synthesise(flows, t: t).frame)
    }

    public func inputParts(ofWeight key: String) -> Int { SuperSloMo.inputParts(ofWeight: key) }
}
