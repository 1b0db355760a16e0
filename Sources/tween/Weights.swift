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

    static func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }

    static func isInstalled(_ model: String) -> Bool {
        ModelRegistry.weightFile(model).map { FileManager.default.fileExists(atPath: path($0)) } ?? true
    }

    /// Loads a weight file, with an error that says how to install it.
    static func load(_ file: String) throws -> [String: Tensor] {
        let p = path(file)
        guard FileManager.default.fileExists(atPath: p) else {
            throw MediaError(p, "model weights not installed; run Scripts/fetch-rife.sh (or set --weights-dir / TWEEN_WEIGHTS)")
        }
        return try Safetensors.read(p).tensors
    }

    static func make(_ model: String) throws -> FrameInterpolator { try ModelRegistry.make(model, weights: load) }
}
