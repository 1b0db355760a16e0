import Foundation
import Models
import NN
import Tensor

/// The network being trained and its paper's losses.
public enum Student {
    case superSloMo(SuperSloMo)
    case sepConv(SepConv)

    public var layer: Layer {
        switch self {
        case .superSloMo(let m): return m
        case .sepConv(let m): return m
        }
    }

    /// How many concatenated parts each weight's input channels come in (`Layer.loadWidening`): Super SloMo's U-Net
    /// skips read two, everything else one.
    public var inputParts: (String) -> Int {
        if case .superSloMo = self { return SuperSloMo.inputParts(ofWeight:) }
        return { _ in 1 }
    }

    /// `weights` ready to be stored as float16 (see `SepConv.halfPrecisionWeights`).
    public func halfPrecisionWeights(_ weights: [String: Tensor]) -> [String: Tensor] {
        if case .sepConv = self { return SepConv.halfPrecisionWeights(weights) }
        return weights
    }

    /// The frame at each sample's t, RGB 0…1 ([N, 3, S, S]); inference only (validation).
    func predict(_ a: Tensor, _ b: Tensor, t: Float) -> Tensor {
        switch self {
        case .superSloMo(let m):
            let flows = m.bidirectionalFlow(SuperSloMo.normalised(a), SuperSloMo.normalised(b))
            return SuperSloMo.denormalised(m.synthesise(flows, t: t).frame)
        case .sepConv(let m):
            return m.interpolate(a, b)
        }
    }
}

/// Loss weights (images in 0…1, flows in pixels).
public struct LossWeights: Sendable {
    /// Super SloMo: the paper's λr 0.8, λw 0.4 and λs 1 rescaled as in docs/TRAINING.md (smoothness on pixel flows
    /// divided by 204 so it does not swamp the L1); census stands in for the VGG perceptual term (no downloads).
    public var reconstruction: Float = 1, warping: Float = 0.5, smoothness: Float = 1 / 204, census: Float = 0.1
    /// Privileged distillation (RIFE paper): L1 between the student's flows from t and the teacher's, in pixels.
    public var distillation: Float = 0.01
    /// SepConv: L1 between each frame's filtered contribution and half that frame warped by the teacher's flow.
    public var kernelDistillation: Float = 0.5
    /// SepConv: L1 between where each 1-D kernel puts its weight (its first moment) and the teacher's displacement
    /// along that axis, in pixels (0: off, the shipped recipe's form). A dense target that points every kernel towards
    /// its motion whatever the texture, as privileged distillation does for flows; see `Trainer.momentError`.
    public var kernelMoments: Float = 0
    /// SepConv: mean squared error between each 1-D kernel and the teacher's displacement along its axis written as a
    /// bilinear tap pair of weight √½ (filtering with such kernels is warping by the teacher, each frame weighted ½);
    /// see `Trainer.kernelTargets` (0: off, the shipped recipe's form).
    public var kernelTargets: Float = 0
    /// SepConv with displacement-decoder heads (`SepConv.initialiseKernelsAsDisplacementDecoder`): L1 between each
    /// head's displacement channel and the teacher's displacement along its axis, pixels (0: off). Privileged
    /// distillation of the one number per pixel that such a head regresses.
    public var displacement: Float = 0
    /// SepConv: squared error between the kernels' gain on a flat image, Σv₁·Σh₁ + Σv₂·Σh₂, and 1 (0: off). The
    /// image losses leave that gain free to drift with the optimiser's noise, and every drift is a brightness error
    /// over the whole frame (measured: 2.7% too bright at one checkpoint of a constant-rate phase).
    public var kernelGain: Float = 0
    /// The decoder's α (one unit of the displacement channel is 1/α pixels); used by the displacement loss.
    public var displacementScale: Float = 1 / 16
    public init() {}
}

/// One optimisation step on a batch; returns the total loss and its named parts.
public struct StepResult { public let loss: Float; public let parts: [(String, Float)] }

public final class Trainer {
    public let student: Student
    public let optimizer: Adam
    public var weights = LossWeights()
    /// Stochastic weight averaging (Izmailov et al., 2018): from this many optimiser steps on, a running mean of the
    /// weights after every step is kept, and it is what the weight file holds. Consecutive checkpoints of a compact
    /// model differ by up to ±0.2 dB on the benchmarks; their mean is steadier.
    public var averageFrom: Int?
    /// Steps in the running mean.
    public private(set) var averageCount = 0
    var average: [String: [Float]] = [:]

    /// `optimizer` defaults to each paper's: AdaMax for SepConv, Adam for Super SloMo.
    public init(student: Student, schedule: Schedule, optimizer variant: Adam.Variant? = nil) {
        self.student = student
        optimizer = Adam(student.layer.parameters().map(\.1), schedule: schedule, variant: variant ?? Self.paperOptimizer(student))
    }

    static func paperOptimizer(_ student: Student) -> Adam.Variant {
        if case .sepConv = student { return .adamax }
        return .adam
    }

    /// Stacks samples (all the same size and t) into batch tensors.
    static func stack(_ batch: [TrainingSample]) -> (a: Tensor, mid: Tensor, b: Tensor, flow: Tensor?) {
        let (n, s) = (batch.count, batch[0].size)
        let flow = batch.allSatisfy({ $0.teacherFlow != nil })
            ? Tensor(shape: [n, 4, s, s], data: batch.flatMap { $0.teacherFlow! }) : nil
        return (Tensor(shape: [n, 3, s, s], data: batch.flatMap(\.first)),
                Tensor(shape: [n, 3, s, s], data: batch.flatMap(\.middle)),
                Tensor(shape: [n, 3, s, s], data: batch.flatMap(\.last)), flow)
    }

    public func step(_ batch: [TrainingSample]) -> StepResult {
        let (a, mid, b, teacher) = Self.stack(batch)
        let t = batch[0].t
        var parts: [(String, Tensor)] = []
        switch student {
        case .superSloMo(let m):
            let i0 = SuperSloMo.normalised(a), i1 = SuperSloMo.normalised(b), it = SuperSloMo.normalised(mid)
            let flows = m.bidirectionalFlow(i0, i1)
            let s = m.synthesise(flows, t: t)
            parts.append(("rec", Loss.l1(s.frame, it) * weights.reconstruction))
            let warp = Loss.l1(i0.warped(by: s.approxT0, padding: .zeros), it) + Loss.l1(i1.warped(by: s.approxT1, padding: .zeros), it)
                + Loss.l1(i0.warped(by: flows.f10, padding: .zeros), i1) + Loss.l1(i1.warped(by: flows.f01, padding: .zeros), i0)
            parts.append(("warp", warp * weights.warping))
            parts.append(("smooth", (Loss.smoothness(flows.f01) + Loss.smoothness(flows.f10)) * weights.smoothness))
            if weights.census > 0 {
                parts.append(("census", Loss.census(SuperSloMo.denormalised(s.frame), mid) * weights.census))
            }
            if let teacher, weights.distillation > 0 {
                let t0 = teacher.slice(axis: 1, 0..<2), t1 = teacher.slice(axis: 1, 2..<4)
                // Both the refined flows and the linear estimates from F₀→₁, F₁→₀ follow the teacher, so the flow
                // U-Net gets a full-magnitude target from the first step.
                let d = Loss.l1(s.flowT0, t0) + Loss.l1(s.flowT1, t1) + Loss.l1(s.approxT0, t0) + Loss.l1(s.approxT1, t1)
                parts.append(("distil", d * weights.distillation))
            }
        case .sepConv(let m):
            let k: SepConv.Kernels
            var displacementLoss: Tensor?
            if let teacher, weights.displacement > 0 {
                let (kernels, displacements) = m.kernelsAndDisplacements(a, b, alpha: weights.displacementScale)
                k = kernels
                let e = (0..<4).map { Self.displacementError(displacements[$0], teacher, channel: $0, radius: m.configuration.kernelSize / 2) }
                displacementLoss = (e[0] + e[1] + e[2] + e[3]) * (weights.displacement / 4)
            } else {
                k = m.kernels(a, b)
            }
            let (p1, p2) = m.filteredFrames(a, b, k)
            parts.append(("l1", Loss.l1(p1 + p2, mid)))
            if let teacher, weights.distillation > 0 {
                // Each frame's filtered contribution should be half of that frame warped by the teacher's flow: a dense
                // per-frame target that says where each frame's kernels must look (the fused L1 alone leaves that
                // ambiguous). Kernel values themselves were a worse target (sparse; measured: no progress).
                let w0 = a.warped(by: teacher.slice(axis: 1, 0..<2), padding: .border) * 0.5
                let w1 = b.warped(by: teacher.slice(axis: 1, 2..<4), padding: .border) * 0.5
                parts.append(("distil", (Loss.l1(p1, w0) + Loss.l1(p2, w1)) * weights.kernelDistillation))
            }
            if let teacher, weights.kernelMoments > 0 {
                let r = m.configuration.kernelSize / 2
                let e = Self.momentError(k.horizontal1, teacher, channel: 0, radius: r) + Self.momentError(k.vertical1, teacher, channel: 1, radius: r)
                    + Self.momentError(k.horizontal2, teacher, channel: 2, radius: r) + Self.momentError(k.vertical2, teacher, channel: 3, radius: r)
                parts.append(("moment", e * weights.kernelMoments))
            }
            if let teacher, weights.kernelTargets > 0 {
                let size = m.configuration.kernelSize
                let e = Loss.mse(k.horizontal1, Self.kernelTargets(k.horizontal1, teacher, channel: 0, size: size))
                    + Loss.mse(k.vertical1, Self.kernelTargets(k.vertical1, teacher, channel: 1, size: size))
                    + Loss.mse(k.horizontal2, Self.kernelTargets(k.horizontal2, teacher, channel: 2, size: size))
                    + Loss.mse(k.vertical2, Self.kernelTargets(k.vertical2, teacher, channel: 3, size: size))
                parts.append(("taps", e * weights.kernelTargets))
            }
            if let displacementLoss { parts.append(("displacement", displacementLoss)) }
            if weights.kernelGain > 0 { parts.append(("gain", Self.kernelGainError(k) * weights.kernelGain)) }
        }
        let total = parts.dropFirst().reduce(parts[0].1) { $0 + $1.1 }
        total.backward()
        optimizer.update()
        accumulateAverage()
        return StepResult(loss: total.scalar, parts: parts.map { ($0.0, $0.1.scalar) })
    }

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

    /// The validation set's PSNR for the average of the two input frames (the baseline every model must beat).
    public static func blendPSNR(_ samples: [TrainingSample]) -> Double {
        samples.map { s in
            var se = 0.0
            for j in 0..<s.middle.count { let d = Double((s.first[j] + s.last[j]) * 0.5) - Double(s.middle[j]); se += d * d }
            return 10 * log10(1 / max(se / Double(s.middle.count), 1e-10))
        }.reduce(0, +) / Double(samples.count)
    }

    /// Mean PSNR (dB) over a validation set, in batches of four.
    public func validationPSNR(_ samples: [TrainingSample]) -> Double {
        var total = 0.0
        Tensor.inferenceMode {
            for start in stride(from: 0, to: samples.count, by: 4) {
                let batch = Array(samples[start..<min(start + 4, samples.count)])
                let (a, mid, b, _) = Self.stack(batch)
                let out = student.predict(a, b, t: batch[0].t)
                let per = 3 * batch[0].size * batch[0].size
                for i in 0..<batch.count {
                    var se = 0.0
                    for j in (i * per)..<((i + 1) * per) {
                        let d = Double(min(1, max(0, out.data[j]))) - Double(mid.data[j]); se += d * d
                    }
                    total += 10 * log10(1 / max(se / Double(per), 1e-10))
                }
            }
        }
        return total / Double(samples.count)
    }

    // MARK: weight averaging

    func accumulateAverage() {
        guard let from = averageFrom, optimizer.step > from else { return }
        averageCount += 1
        let w = 1 / Float(averageCount)
        for (key, t) in student.layer.stateDict() {
            guard averageCount > 1, var mean = average.removeValue(forKey: key) else { average[key] = t.data; continue }
            t.data.withUnsafeBufferPointer { x in
                mean.withUnsafeMutableBufferPointer { m in for i in m.indices { m[i] += (x[i] - m[i]) * w } }
            }
            average[key] = mean
        }
    }

    /// Forgets the running mean (a resumed run that no longer averages ships its current weights).
    public func discardAverage() { average = [:]; averageCount = 0 }

    /// The weights to ship: the running mean when one is kept, else the current weights.
    public func shippedWeights() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, t) in student.layer.stateDict() {
            out[key] = averageCount > 0 ? Tensor(shape: t.shape, data: average[key]!) : Tensor(shape: t.shape, data: t.data)
        }
        return out
    }

    /// Runs `body` with the running mean swapped into the network (the current weights are put back after).
    public func withAveragedWeights<T>(_ body: () -> T) -> T {
        guard averageCount > 0 else { return body() }
        let state = student.layer.stateDict()
        let current = state.map(\.1.data)
        for (key, t) in state { t.data = average[key]! }
        defer { for (i, (_, t)) in state.enumerated() { t.data = current[i] } }
        return body()
    }

    // MARK: checkpoints

    /// The model's tensors under their own keys (so a checkpoint is also a weight file) plus the optimiser's moments.
    public func checkpoint(metadata: [String: String]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in student.layer.stateDict() { out[k] = v }
        for (k, v) in optimizer.state { out["optimizer." + k] = v }
        if averageCount > 0 {
            for (k, v) in shippedWeights() { out["average." + k] = v }
            out["average_count"] = Tensor(shape: [1], data: [Float(averageCount)])
        }
        return out
    }

    public func restore(_ tensors: [String: Tensor], source: String) throws {
        try student.layer.load(tensors, source: source, ignoring: ["optimizer.", "average"])
        var state: [String: Tensor] = [:]
        for (k, v) in tensors where k.hasPrefix("optimizer.") { state[String(k.dropFirst("optimizer.".count))] = v }
        // Checkpoints from before the variant was recorded hold the paper's optimiser.
        if state["variant"] == nil, state["step"] != nil {
            state["variant"] = Tensor(scalar: Self.paperOptimizer(student) == .adam ? 0 : 1)
        }
        optimizer.restore(state)
        average = [:]; averageCount = 0
        if let count = tensors["average_count"]?.data.first, count >= 1 {
            for (key, _) in student.layer.stateDict() {
                guard let t = tensors["average." + key] else { throw LoadError(source: source, problems: ["missing average.\(key)"]) }
                average[key] = t.data
            }
            averageCount = Int(count)
        }
    }
}
