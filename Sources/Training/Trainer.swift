import Foundation
import Models
import NN
import Tensor

/// One optimisation step on a batch; returns the total loss and its named parts.
public struct StepResult { public let loss: Float; public let parts: [(String, Float)] }

public final class Trainer {
    public let model: any TrainableModel
    public let optimizer: Adam
    /// Loss weights by name over the model's defaults (`TrainableModel.defaultLossWeights`).
    public var lossWeights: [String: Float] = [:]
    /// Stochastic weight averaging (Izmailov et al., 2018): from this many optimiser steps on, a running mean of the
    /// weights after every step is kept, and it is what the weight file holds. Consecutive checkpoints of a compact
    /// model differ by up to ±0.2 dB on the benchmarks; their mean is steadier.
    public var averageFrom: Int?
    /// Steps in the running mean.
    public private(set) var averageCount = 0
    var average: [String: [Float]] = [:]

    /// How much freed storage training keeps for the next step (`Tensor.recycleTrainingStorage`).
    public static let recycledBytes = 3 << 30

    /// `optimizer` defaults to the model's paper's.
    public init(model: any TrainableModel, schedule: Schedule, optimizer variant: Adam.Variant? = nil) {
        self.model = model
        Tensor.recycleTrainingStorage(upTo: Trainer.recycledBytes)
        optimizer = Adam(model.layer.parameters().map(\.1), schedule: schedule, variant: variant ?? model.paperOptimizer)
    }

    public func step(_ samples: [TrainingSample]) -> StepResult {
        let parts = model.losses(TrainingBatch(samples), weights: lossWeights)
        let total = parts.dropFirst().reduce(parts[0].1) { $0 + $1.1 }
        total.backward()
        model.tieGradients()
        let updating = ContinuousClock.now
        optimizer.update()
        model.tieParameters()
        accumulateAverage()
        Tensor.profile?.charge("optimiser", backward: OpProfile.seconds(ContinuousClock.now - updating))
        return StepResult(loss: total.scalar, parts: parts.map { ($0.0, $0.1.scalar) })
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
                let stacked = TrainingBatch(batch)
                let (mid, out) = (stacked.middle, model.predict(stacked.first, stacked.last, t: stacked.t))
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
        for (key, t) in model.layer.stateDict() {
            guard averageCount > 1, var mean = average.removeValue(forKey: key) else { average[key] = t.data; continue }
            t.data.withUnsafeBufferPointer { x in
                mean.withUnsafeMutableBufferPointer { m in for i in m.indices { m[i] += (x[i] - m[i]) * w } }
            }
            average[key] = mean
        }
    }

    /// Takes over another trainer's running mean (a new stage of the same run).
    func carryAverage(from other: Trainer) { average = other.average; averageCount = other.averageCount }

    /// Forgets the running mean (a resumed run that no longer averages ships its current weights).
    public func discardAverage() { average = [:]; averageCount = 0 }

    /// The weights to ship: the running mean when one is kept, else the current weights.
    public func shippedWeights() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, t) in model.layer.stateDict() {
            out[key] = averageCount > 0 ? Tensor(shape: t.shape, data: average[key]!) : Tensor(shape: t.shape, data: t.data)
        }
        return out
    }

    /// Runs `body` with the running mean swapped into the network (the current weights are put back after).
    public func withAveragedWeights<T>(_ body: () -> T) -> T {
        guard averageCount > 0 else { return body() }
        let state = model.layer.stateDict()
        let current = state.map(\.1.data)
        for (key, t) in state { t.data = average[key]! }
        defer { for (i, (_, t)) in state.enumerated() { t.data = current[i] } }
        return body()
    }

    // MARK: checkpoints

    /// The model's tensors under their own keys (so a checkpoint is also a weight file) plus the optimiser's moments.
    public func checkpoint(metadata: [String: String]) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in model.layer.stateDict() { out[k] = v }
        for (k, v) in optimizer.state { out["optimizer." + k] = v }
        if averageCount > 0 {
            for (k, v) in shippedWeights() { out["average." + k] = v }
            out["average_count"] = Tensor(shape: [1], data: [Float(averageCount)])
        }
        return out
    }

    public func restore(_ tensors: [String: Tensor], source: String) throws {
        try model.layer.load(tensors, source: source, ignoring: ["optimizer.", "average"])
        var state: [String: Tensor] = [:]
        for (k, v) in tensors where k.hasPrefix("optimizer.") { state[String(k.dropFirst("optimizer.".count))] = v }
        // Checkpoints from before the variant was recorded hold the paper's optimiser.
        if state["variant"] == nil, state["step"] != nil {
            state["variant"] = Tensor(scalar: model.paperOptimizer == .adam ? 0 : 1)
        }
        optimizer.restore(state)
        average = [:]; averageCount = 0
        if let count = tensors["average_count"]?.data.first, count >= 1 {
            for (key, _) in model.layer.stateDict() {
                guard let t = tensors["average." + key] else { throw LoadError(source: source, problems: ["missing average.\(key)"]) }
                average[key] = t.data
            }
            averageCount = Int(count)
        }
    }
}
