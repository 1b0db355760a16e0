import Foundation
import Media
import Models
import Tensor

/// Where converted weights live: --weights-dir, else TWEEN_WEIGHTS, else ${XDG_DATA_HOME:-~/.local/share}/tween/models.
enum WeightStore {
    nonisolated(unsafe) static var override: String?

    static var directory: String {
        if let override { return override }
        let env = ProcessInfo.processInfo.environment
        if let d = env["TWEEN_WEIGHTS"], !d.isEmpty { return d }
        let data = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
        return data + "/tween/models"
    }

    /// Weights trained here ship with the executable (SwiftPM copies `Sources/tween/Weights` next to it); a file of
    /// the same name in the model folder takes precedence, so a user can swap in a converted official checkpoint.
    static var bundled: String {
        Bundle.main.bundleURL.appendingPathComponent("Tween_tween.resources/Weights").path
    }

    /// The file that will be used: the model folder's, else the bundled one (nil: neither exists).
    static func resolve(_ file: String) -> String? {
        let user = (directory as NSString).appendingPathComponent(file)
        if FileManager.default.fileExists(atPath: user) { return user }
        let shipped = (bundled as NSString).appendingPathComponent(file)
        return FileManager.default.fileExists(atPath: shipped) ? shipped : nil
    }

    static func path(_ file: String) -> String { resolve(file) ?? (directory as NSString).appendingPathComponent(file) }

    /// The default method: the best one whose weights are installed (`ModelRegistry.defaultPreference`).
    static var defaultModel: String { ModelRegistry.defaultModel(installed: isInstalled) }

    static func isInstalled(_ model: String) -> Bool {
        ModelRegistry.weightFile(model).map { resolve($0) != nil } ?? true
    }

    /// How a missing weight file is installed: RIFE's are converted from the official ones, the others ship.
    static func howToInstall(_ file: String) -> String {
        file.hasPrefix("rife") ? "run Scripts/fetch-rife.sh"
            : "weights trained here ship in Sources/tween/Weights; train them with `tween train` or convert an official checkpoint with Scripts/convert_checkpoint.py"
    }

    /// Loads a weight file, with an error that says how to install it.
    static func load(_ file: String) throws -> Safetensors.File {
        guard let p = resolve(file) else {
            throw MediaError(path(file), "model weights not installed; \(howToInstall(file)) (or set --weights-dir / TWEEN_WEIGHTS)")
        }
        return try Safetensors.read(p)
    }

    /// The model, wrapped in a `SymmetryEnsemble` of `ensemble` passes when that is more than one.
    static func make(_ model: String, ensemble: Int = 1) throws -> FrameInterpolator {
        let base = try ModelRegistry.make(model, weights: load)
        guard ensemble > 1, let wrapped = SymmetryEnsemble(base, count: ensemble) else { return base }
        return wrapped
    }
}
