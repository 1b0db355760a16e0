/// Every interpolation method Tween knows, by the name used on the command line.
public enum ModelRegistry {
    public static let defaultModel = "blend"

    public static let all: [ModelInfo] = [NearestInterpolator().info, BlendInterpolator().info]

    public static var names: [String] { all.map(\.name) }

    public static func make(_ name: String) throws -> FrameInterpolator {
        switch name.lowercased() {
        case "nearest": return NearestInterpolator()
        case "blend": return BlendInterpolator()
        default: throw InterpolatorError.unknownModel(name, available: names)
        }
    }
}
