import NN
import Tensor

/// Every interpolation method Tween knows, by the name used on the command line.
public enum ModelRegistry {
    /// The default method, best first: the best quality that converts 720p to 2× at 2.5 fps or more on two cores
    /// (README, Measured). RIFE v4.25 is faster than the compact Super SloMo (2.4–2.6 against 1.8 fps at 720p on an
    /// AVX2 host) at about the same quality (33.29 / 34.05 dB against 33.38 / 33.38), but its weights are converted at
    /// set-up; Super SloMo ships in the package, so a fresh install always has a default.
    public static let defaultPreference = ["rife-v4.25", "superslomo"]

    /// The first of `defaultPreference` whose weights are installed.
    public static func defaultModel(installed: (String) -> Bool) -> String {
        defaultPreference.first(where: installed) ?? defaultPreference.last!
    }

    public static let all: [ModelInfo] = [
        NearestInterpolator().info, BlendInterpolator().info,
        ModelInfo(name: "rife-hdv3", summary: "RIFE HDv3 (ECCV 2022), official weights", arbitraryT: false, needsWeights: true),
        ModelInfo(name: "rife-v4.25", summary: "Practical-RIFE v4.25 (any t), official weights", arbitraryT: true, needsWeights: true),
        ModelInfo(name: "superslomo", summary: "Super SloMo (CVPR 2018), compact, trained here; any t", arbitraryT: true, needsWeights: true),
        ModelInfo(name: "sepconv", summary: "SepConv (ICCV 2017), compact, trained here; t = ½", arbitraryT: false, needsWeights: true),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The weight file a model needs, by file name in the model folder (nil: none needed).
    public static func weightFile(_ name: String) -> String? {
        switch name.lowercased() {
        case "rife-hdv3": return "rife-hdv3.safetensors"
        case "rife-v4.25": return "rife-v4.25.safetensors"
        case "superslomo": return "superslomo.safetensors"
        case "sepconv": return "sepconv.safetensors"
        default: return nil
        }
    }

    /// Builds a model; `weights` loads a weight file by name (the CLI reads it from the model folder).
    public static func make(_ name: String, weights: (String) throws -> Safetensors.File = { throw LoadError(source: $0, problems: ["no weights"]) }) throws -> FrameInterpolator {
        switch name.lowercased() {
        case "nearest": return NearestInterpolator()
        case "blend": return BlendInterpolator()
        case "rife-hdv3": return try RIFEInterpolator(weights: weights("rife-hdv3.safetensors").tensors)
        case "rife-v4.25": return try RIFEv4Interpolator(weights: weights("rife-v4.25.safetensors").tensors)
        case "superslomo":
            let file = try weights("superslomo.safetensors")
            return try SuperSloMoInterpolator(weights: file.tensors, metadata: file.metadata)
        case "sepconv": return try SepConvInterpolator(weights: weights("sepconv.safetensors").tensors)
        default: throw InterpolatorError.unknownModel(name, available: names)
        }
    }
}
