import Foundation
import NN
import Tensor

/// Times optimisation steps (forward, backward, optimiser) of a trainable model at one recipe stage's architecture,
/// crop, batch, loss weights and optimiser. The batch is a fixed synthetic one that carries every teacher field, so
/// no media or teacher is needed and `Scripts/bench_torch_train.py` can build the same numbers in PyTorch.
public final class TrainingBenchmark {
    public let model: String
    public let stage: Recipe.Stage
    public let trainer: Trainer
    public let samples: [TrainingSample]

    /// The recipe's last stage (the one a resumed run trains), or `crop` and `batch` in its place.
    public init(recipe: Recipe, crop: Int? = nil, batch: Int? = nil) throws {
        var stage = recipe.stages[recipe.stages.count - 1]
        if let crop { stage.crop = crop }
        if let batch { stage.batch = batch }
        let built = try TrainableModels.make(recipe.model, architecture: recipe.architecture ?? [:], seed: 1)
        let variant = stage.optimizer.map { $0 == "adam" ? Adam.Variant.adam : .adamax } ?? built.paperOptimizer
        trainer = Trainer(model: built, schedule: .constant(stage.lr), optimizer: variant)
        trainer.lossWeights = stage.losses ?? [:]
        model = recipe.model
        self.stage = stage
        samples = Self.batch(count: stage.batchSize, size: stage.cropSize)
    }

    /// `count` samples of `size`² at t = ½: a smooth pattern moving by (3, 2) pixels over the gap, with the teacher's
    /// flows from t, an even mask and the true middle frame as the teacher's frame. The same formula is in
    /// `Scripts/bench_torch_train.py`.
    public static func batch(count: Int, size s: Int) -> [TrainingSample] {
        func frame(_ i: Int, shift: Float) -> [Float] {
            var out = [Float](repeating: 0, count: 3 * s * s)
            for c in 0..<3 { for y in 0..<s { for x in 0..<s {
                let u = Float(x) - 3 * shift, v = Float(y) - 2 * shift, phase = Float(i + c)
                out[(c * s + y) * s + x] = 0.5 + 0.25 * sin(0.11 * u + 0.7 * phase) * cos(0.07 * v - 0.3 * phase) + 0.15 * sin(0.023 * (u + v) + phase)
            } } }
            return out
        }
        return (0..<count).map { i in
            let flow = [Float](repeating: -1.5, count: s * s) + [Float](repeating: -1, count: s * s)
                + [Float](repeating: 1.5, count: s * s) + [Float](repeating: 1, count: s * s)
            let middle = frame(i, shift: 0.5)
            return TrainingSample(size: s, first: frame(i, shift: 0), middle: middle, last: frame(i, shift: 1), t: 0.5,
                                  teacherFlow: flow, teacherMask: [Float](repeating: 0.5, count: s * s), teacherFrame: middle)
        }
    }

    /// Runs `steps` optimisation steps; returns the seconds they took and the last step's loss.
    public func run(steps: Int) -> (seconds: Double, loss: Float) {
        let start = ContinuousClock.now
        var loss: Float = 0
        for _ in 0..<steps {
            Tensor.profile?.restart()
            loss = trainer.step(samples).loss
        }
        return (OpProfile.seconds(ContinuousClock.now - start), loss)
    }
}
