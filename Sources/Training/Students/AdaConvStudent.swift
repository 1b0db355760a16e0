import Models
import NN
import Tensor

/// AdaConv (Niklaus et al., CVPR 2017) in training: the paper's colour and gradient losses and, with a teacher, the
/// displacement its decoder start encodes and each frame's share of the frame, both from the teacher's flows and mask.
public final class AdaConvStudent: TrainableModel {
    public let network: AdaConv
    /// The displacement decoder's α: one unit of a displacement channel of conv5 is 1/α pixels.
    public let displacementScale: Float
    /// The decoder's sharpness β: the kernel it forms is exp(−β·|tap − d|²), normalised (β = 3: 0.83 of the weight on
    /// the nearest tap at a whole displacement).
    public let sharpness: Float

    /// `width` W: conv1 … conv4 W, 2W, 4W, 8W (the paper's 32); `head_width`: conv5 (the paper's 2048); `kernel`: the
    /// side K of each frame's kernel (odd; the paper's 41); `displacement_scale` and `sharpness`: the decoder's α and β;
    /// `tied_ramps` 1: the decoder's ramps train tied (`tiedRamps`).
    public static let entry = TrainableModelEntry(name: "adaconv", architectureDefaults: [
        "width": 16, "head_width": 96, "kernel": 21, "displacement_scale": 1.0 / 16, "sharpness": 3, "tied_ramps": 1,
    ]) { architecture, seed in
        let width = try architecture.count("width"), head = try architecture.count("head_width"), kernel = try architecture.count("kernel")
        guard kernel % 2 == 1, kernel >= 3 else { throw RecipeError("architecture key \"kernel\" must be odd and at least 3") }
        guard head >= AdaConv.decoderChannels(kernelSize: kernel) else {
            throw RecipeError("architecture key \"head_width\" must be at least 4 · kernel + 1 = \(AdaConv.decoderChannels(kernelSize: kernel)) (the decoder's channels)")
        }
        guard let alpha = architecture["displacement_scale"], alpha > 0 else { throw RecipeError("architecture key \"displacement_scale\" must be positive") }
        guard let beta = architecture["sharpness"], beta > 0 else { throw RecipeError("architecture key \"sharpness\" must be positive") }
        let config = AdaConv.Configuration(widths: [1, 2, 4, 8].map { $0 * width }, headWidth: head, kernelSize: kernel)
        return AdaConvStudent(AdaConv(config, seed: seed), displacementScale: Float(alpha), sharpness: Float(beta),
                              tiedRamps: architecture["tied_ramps"] == 1)
    }

    /// Whether the decoder's ramps train as one parameter per displacement component (`tied_ramps` 1): every
    /// kernel stays the decoder's Gaussian around the displacement ramp 0 encodes, plus conv6's residual.
    public let tiedRamps: Bool

    public init(_ network: AdaConv, displacementScale: Float = 1 / 16, sharpness: Float = 1, tiedRamps: Bool = false) {
        self.network = network; self.displacementScale = displacementScale; self.sharpness = sharpness; self.tiedRamps = tiedRamps
    }

    public func tieGradients() { if tiedRamps { network.sumRampGradients() } }
    public func tieParameters() { if tiedRamps { network.copyRamps(alpha: displacementScale) } }

    public var layer: Layer { network }
    public var paperOptimizer: Adam.Variant { .adamax }

    public var architectureMetadata: [String: String] {
        let c = network.configuration
        return ["architecture": "AdaConv", "widths": c.widths.map(String.init).joined(separator: ","),
                "head_width": "\(c.headWidth)", "kernel_size": "\(c.kernelSize)",
                "displacement_scale": "\(displacementScale)", "sharpness": "\(sharpness)", "tied_ramps": tiedRamps ? "1" : "0"]
    }

    /// `l1`: the paper's colour loss; `gradient`: its gradient loss (the kernels applied to the inputs' horizontal and
    /// vertical differences against the truth's). With a teacher: `ramps`, every ramp channel of the decoder against
    /// the ramp of the teacher's flow (pixels, the flow clamped to the reach; mean over the 4K ramps); `displacement`,
    /// ramp 0 alone (the displacement itself); `distil`, each frame's filtered share against that frame warped by the
    /// teacher's flow and weighted by its mask.
    ///
    /// The defaults are runs/adaconv-tied's: with tied ramps, `displacement` on ramp 0 supervises them all. `ramps`
    /// was tried on untied ramps (runs/adaconv, steps 250–425), which it pulled further apart.
    public var defaultLossWeights: [String: Float] {
        ["l1": 1, "gradient": 1, "ramps": 0, "displacement": 0.1, "distil": 0.5]
    }

    public func losses(_ batch: TrainingBatch, weights: [String: Float]) -> [(String, Tensor)] {
        let w = defaultLossWeights.merging(weights) { $1 }
        let m = network, k = m.configuration.kernelSize, k2 = k * k
        m.training = true
        let (a, b, teacher) = (batch.first, batch.last, batch.teacherFlow)
        let features = m.features(AdaConv.networkInput(a, b))
        let kernels = m.conv6(features).softmaxChannels()
        let withGradients = w["gradient"]! > 0
        let (in1, in2) = withGradients ? (Self.withDifferences(a), Self.withDifferences(b)) : (a, b)
        let r = k / 2
        let f1 = in1.padded(top: r, bottom: r, left: r, right: r, mode: .replicate).denseLocalConv(kernels: kernels.slice(axis: 1, 0..<k2), size: k)
        let f2 = in2.padded(top: r, bottom: r, left: r, right: r, mode: .replicate).denseLocalConv(kernels: kernels.slice(axis: 1, k2..<(2 * k2)), size: k)
        let (p1, p2) = withGradients ? (f1.slice(axis: 1, 0..<3), f2.slice(axis: 1, 0..<3)) : (f1, f2)
        var parts: [(String, Tensor)] = [("l1", Loss.l1(p1 + p2, batch.middle) * w["l1"]!)]
        if withGradients {
            let predicted = f1.slice(axis: 1, 3..<9) + f2.slice(axis: 1, 3..<9)
            parts.append(("gradient", Loss.l1(predicted, Self.withDifferences(batch.middle).slice(axis: 1, 3..<9)) * w["gradient"]!))
        }
        if let teacher, w["displacement"]! > 0 {
            let reach = Float(r)
            let target = Tensor(shape: teacher.shape, data: teacher.data.map { min(reach, max(-reach, $0)) })
            let displacement = AdaConv.displacements(fromFeatures: features, alpha: displacementScale, kernelSize: k)
            parts.append(("displacement", Loss.l1(displacement, target) * w["displacement"]!))
        }
        if let teacher, w["ramps"]! > 0 {
            parts.append(("ramps", Loss.l1(features.slice(axis: 1, 0..<(4 * k)) * (1 / displacementScale),
                                           Self.rampTargets(flow: teacher, kernelSize: k)) * w["ramps"]!))
        }
        if let teacher, w["distil"]! > 0 {
            let mask = batch.teacherMask ?? Tensor(repeating: 0.5, shape: [a.shape[0], 1, a.shape[2], a.shape[3]])
            let w0 = a.warped(by: teacher.slice(axis: 1, 0..<2), padding: .border) * mask
            let w1 = b.warped(by: teacher.slice(axis: 1, 2..<4), padding: .border) * (mask * -1 + 1)
            parts.append(("distil", (Loss.l1(p1, w0) + Loss.l1(p2, w1)) * w["distil"]!))
        }
        return parts
    }

    /// The decoder's ramps of a flow [N, 4, H, W] in pixels: [N, 4K, H, W], channel c·K + j = max(0, s − j) for
    /// s = clamp(flow_c, −r, r) + r, r = ⌊K/2⌋ (`initialiseKernelsAsDisplacementDecoder`'s channels over α).
    static func rampTargets(flow: Tensor, kernelSize k: Int) -> Tensor {
        let (n, plane) = (flow.shape[0], flow.shape[2] * flow.shape[3]), r = Float(k / 2)
        var out = [Float](repeating: 0, count: n * 4 * k * plane)
        flow.data.withUnsafeBufferPointer { src in
            for b in 0..<n { for c in 0..<4 {
                let from = (b * 4 + c) * plane
                for j in 0..<k {
                    let to = ((b * 4 + c) * k + j) * plane
                    for i in 0..<plane { out[to + i] = max(0, min(r, max(-r, src[from + i])) + r - Float(j)) }
                }
            } }
        }
        return Tensor(shape: [n, 4 * k, flow.shape[2], flow.shape[3]], data: out)
    }

    /// An image [N, 3, H, W] with its forward differences along x and then y appended ([N, 9, H, W]; the last column's
    /// and row's differences are zero), for the gradient loss.
    static func withDifferences(_ x: Tensor) -> Tensor {
        let (h, w) = (x.shape[2], x.shape[3])
        let dx = (x.slice(axis: 3, 1..<w) - x.slice(axis: 3, 0..<(w - 1))).padded(top: 0, bottom: 0, left: 0, right: 1)
        let dy = (x.slice(axis: 2, 1..<h) - x.slice(axis: 2, 0..<(h - 1))).padded(top: 0, bottom: 1, left: 0, right: 0)
        return Tensor.concat([x, dx, dy])
    }

    public func predict(_ first: Tensor, _ last: Tensor, t: Float) -> Tensor {
        network.training = false
        return network.interpolate(first, last)
    }

    /// `displacement_decoder` makes conv5's first channels ramps of the displacements and conv6 the decoder that turns
    /// them into Gaussian kernels (docs/MODELS.md).
    public var namedStarts: [String: Set<String>] { ["displacement_decoder": ["residual_scale"]] }

    public func applyStart(_ name: String, settings: [String: Double]) throws -> String {
        guard name == "displacement_decoder" else {
            throw RecipeError("init.start \"\(name)\" is not one of adaconv's (\(namedStarts.keys.sorted().joined(separator: ", ")))")
        }
        let residual = Float(settings["residual_scale"] ?? 0.01)
        guard (0...1).contains(residual) else { throw RecipeError("init.settings.residual_scale must be 0 to 1") }
        network.initialiseKernelsAsDisplacementDecoder(alpha: displacementScale, beta: sharpness, residualScale: residual)
        return "displacement decoder, α \(displacementScale), β \(sharpness), other channels ×\(residual)"
    }

    public func halfPrecisionWeights(_ weights: [String: Tensor]) -> [String: Tensor] { weights }
}
