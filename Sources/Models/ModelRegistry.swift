import NN
import Tensor

/// One interpolation method: what it is (its model's own `info`), the weight file it needs, and how to build it.
public struct ModelEntry: Sendable {
    public let info: ModelInfo
    /// Builds the model from its weight file (nil for methods without weights).
    let factory: @Sendable (Safetensors.File?) throws -> FrameInterpolator

    /// The weight file's name in the model folder: the method's name with `.safetensors` (nil: none needed).
    public var weightFile: String? { info.needsWeights ? info.name + ".safetensors" : nil }

    public init(_ info: ModelInfo, factory: @escaping @Sendable (Safetensors.File?) throws -> FrameInterpolator) {
        self.info = info; self.factory = factory
    }

    /// A method with a weight file: the factory is handed the file.
    public static func weighted(_ info: ModelInfo, _ make: @escaping @Sendable (Safetensors.File) throws -> FrameInterpolator) -> ModelEntry {
        precondition(info.needsWeights, "\(info.name): a weighted entry's info must say it needs weights")
        return ModelEntry(info) { file in try make(file!) }
    }
}

/// Every interpolation method Tween knows: one entry each, in the order `tween models` lists them.
public enum ModelRegistry {
    public static let entries: [ModelEntry] = [
        ModelEntry(NearestInterpolator.info) { _ in NearestInterpolator() },
        ModelEntry(BlendInterpolator.info) { _ in BlendInterpolator() },
        .weighted(RIFEInterpolator.info) { try RIFEInterpolator(weights: $0.tensors) },
        .weighted(RIFEv4Interpolator.info) { try RIFEv4Interpolator(weights: $0.tensors) },
        .weighted(SuperSloMoInterpolator.info) { try SuperSloMoInterpolator(weights: $0.tensors, metadata: $0.metadata) },
        .weighted(SepConvInterpolator.info) { try SepConvInterpolator(weights: $0.tensors) },
        .weighted(DVFInterpolator.info) { try DVFInterpolator(weights: $0.tensors, metadata: $0.metadata) },
        .weighted(AdaConvInterpolator.info) { try AdaConvInterpolator(weights: $0.tensors) },
    ]

    /// The default method, best first: the best quality that converts 720p to 2× at 2.5 fps or more on two cores
    /// (docs/BENCHMARKS.md). RIFE v4.25's weights are converted at set-up; Super SloMo ships in the package, so a
    /// fresh install always has a default.
    public static let defaultPreference = [RIFEv4Interpolator.info.name, SuperSloMoInterpolator.info.name]

    /// The first of `defaultPreference` whose weights are installed.
    public static func defaultModel(installed: (String) -> Bool) -> String {
        defaultPreference.first(where: installed) ?? defaultPreference.last!
    }

    public static var all: [ModelInfo] { entries.map(\.info) }
    public static var names: [String] { entries.map(\.info.name) }

    /// The entry for a name as typed on the command line (any case).
    public static func entry(_ name: String) throws -> ModelEntry {
        guard let e = entries.first(where: { $0.info.name == name.lowercased() }) else {
            throw InterpolatorError.unknownModel(name, available: names)
        }
        return e
    }

    /// The weight file a model needs, by file name in the model folder (nil: none needed, or no such model).
    public static func weightFile(_ name: String) -> String? { (try? entry(name))?.weightFile }

    /// Builds a model; `weights` loads a weight file by name (the CLI reads it from the model folder).
    public static func make(_ name: String, weights: (String) throws -> Safetensors.File = { throw LoadError(source: $0, problems: ["no weights"]) }) throws -> FrameInterpolator {
        let e = try entry(name)
        return try e.factory(try e.weightFile.map(weights))
    }
}
