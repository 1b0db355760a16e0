import Foundation
import Models
import NN
import Tensor

/// One step's samples stacked into tensors [N, C, S, S] (images RGB 0…1, flows in pixels), all at one t. The
/// teacher's fields are present when every sample has them.
public struct TrainingBatch {
    public let first: Tensor, middle: Tensor, last: Tensor
    public let t: Float
    /// The teacher's flows from t to both frames (Fₜ→₀ then Fₜ→₁), 4 channels.
    public let teacherFlow: Tensor?
    /// The teacher's fusion mask: the weight of frame 0's warp in its frame, 1 channel.
    public let teacherMask: Tensor?
    /// The teacher's frame at t, 3 channels.
    public let teacherFrame: Tensor?

    public init(_ samples: [TrainingSample]) {
        let (n, s) = (samples.count, samples[0].size)
        func field(_ channels: Int, _ value: (TrainingSample) -> [Float]?) -> Tensor? {
            let parts = samples.compactMap(value)
            return parts.count == n ? Tensor(shape: [n, channels, s, s], data: parts.flatMap { $0 }) : nil
        }
        first = Tensor(shape: [n, 3, s, s], data: samples.flatMap(\.first))
        middle = Tensor(shape: [n, 3, s, s], data: samples.flatMap(\.middle))
        last = Tensor(shape: [n, 3, s, s], data: samples.flatMap(\.last))
        t = samples[0].t
        teacherFlow = field(4, \.teacherFlow)
        teacherMask = field(1, \.teacherMask)
        teacherFrame = field(3, \.teacherFrame)
    }
}

/// A network that trains on the platform: the recipe builds it from its `architecture` keys, the trainer asks it for
/// its losses on each batch, validation asks it for frames, and its weights are stored under the official keys.
public protocol TrainableModel: AnyObject {
    /// The network whose parameters are optimised and whose state dict is the weight file.
    var layer: Layer { get }
    /// Weight-file metadata from which the model's interpolator rebuilds the architecture.
    var architectureMetadata: [String: String] { get }
    /// The optimiser of the model's paper (a recipe may choose the other).
    var paperOptimizer: Adam.Variant { get }
    /// Every loss term the model knows, with its default weight; a recipe stage's `losses` overrides them by name.
    var defaultLossWeights: [String: Float] { get }
    /// The weighted loss terms for a batch, in a fixed order (the first is the image loss; zero weights are left out).
    func losses(_ batch: TrainingBatch, weights: [String: Float]) -> [(String, Tensor)]
    /// The frame at `t`, RGB 0…1 ([N, 3, S, S]), for validation (inference mode).
    func predict(_ first: Tensor, _ last: Tensor, t: Float) -> Tensor
    /// Starts a stage may ask for by name (recipe `init.start`) and the settings each takes (`init.settings`); empty
    /// when the model has none. `applyStart` returns its description for the weight file.
    var namedStarts: [String: Set<String>] { get }
    func applyStart(_ name: String, settings: [String: Double]) throws -> String
    /// Every how many steps a batch at another t than ½ is trained (0: never; those batches have no teacher data).
    var otherTimeEvery: Int { get }
    /// How many concatenated parts each weight's input channels come in (for widening a narrower file's weights).
    func inputParts(ofWeight key: String) -> Int
    /// `weights` made ready for float16 storage.
    func halfPrecisionWeights(_ weights: [String: Tensor]) -> [String: Tensor]
    /// Parameters tied inside the paper's layers: `tieGradients` runs after the backward pass (each tied group's
    /// gradients summed into its leader), `tieParameters` after the update (the group set from its leader).
    func tieGradients()
    func tieParameters()
}

public extension TrainableModel {
    var namedStarts: [String: Set<String>] { [:] }
    func applyStart(_ name: String, settings: [String: Double]) throws -> String {
        throw RecipeError("init.start \"\(name)\" is not a start this model knows (it has none)")
    }
    var otherTimeEvery: Int { 0 }
    func inputParts(ofWeight key: String) -> Int { 1 }
    func halfPrecisionWeights(_ weights: [String: Tensor]) -> [String: Tensor] { weights }
    func tieGradients() {}
    func tieParameters() {}
}

/// How a model joins training: its name (as in `tween --model`), the architecture keys a recipe may set with their
/// defaults, and how to build it.
public struct TrainableModelEntry: Sendable {
    public let name: String
    public let architectureDefaults: [String: Double]
    public let make: @Sendable (_ architecture: [String: Double], _ seed: UInt64) throws -> any TrainableModel
}

/// The models that can be trained, one entry each.
public enum TrainableModels {
    public static let entries: [TrainableModelEntry] = [SuperSloMoStudent.entry, SepConvStudent.entry, DVFStudent.entry, AdaConvStudent.entry]

    public static var names: [String] { entries.map(\.name) }

    public static func entry(_ name: String) throws -> TrainableModelEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw RecipeError("model \"\(name)\" cannot be trained here (trainable: \(names.joined(separator: ", ")))")
        }
        return entry
    }

    /// Builds `name` with the recipe's architecture keys over the entry's defaults; unknown keys are an error.
    public static func make(_ name: String, architecture: [String: Double], seed: UInt64) throws -> any TrainableModel {
        let entry = try entry(name)
        if let unknown = architecture.keys.sorted().first(where: { entry.architectureDefaults[$0] == nil }) {
            throw RecipeError("architecture key \"\(unknown)\" is not one of \(name)'s (\(entry.architectureDefaults.keys.sorted().joined(separator: ", ")))")
        }
        return try entry.make(entry.architectureDefaults.merging(architecture) { $1 }, seed)
    }
}

/// A recipe that cannot run, said in one line.
public struct RecipeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Dictionary where Key == String, Value == Double {
    /// A key that must hold a positive whole number.
    func count(_ key: String) throws -> Int {
        guard let v = self[key], v > 0, v == v.rounded(), v < 1e6 else { throw RecipeError("architecture key \"\(key)\" must be a positive whole number") }
        return Int(v)
    }
}
