import Frames

/// The frames an interpolator sees for one gap: the pair it fills (`left`, `right`) and, for models that use
/// more temporal context, up to `contextBefore` frames before `left` and `contextAfter` after `right`
/// (fewer at the ends of a clip).
public struct FrameWindow {
    public var before: [Image]
    public var left: Image
    public var right: Image
    public var after: [Image]

    public init(before: [Image] = [], left: Image, right: Image, after: [Image] = []) {
        self.before = before; self.left = left; self.right = right; self.after = after
    }

    /// The pair to fill, checked to be the same size (every network needs that).
    public func checkedPair() throws -> (Image, Image) {
        guard left.sameShape(as: right) else {
            throw InterpolatorError.shapeMismatch("\(left.width)×\(left.height) and \(right.width)×\(right.height)")
        }
        return (left, right)
    }
}

/// What a method is and what it can do, for `tween models` and for the pipeline's planning.
public struct ModelInfo: Sendable {
    public let name: String
    public let summary: String
    /// Whether any t in (0, 1) is synthesised directly; otherwise only t = ½ and the pipeline halves recursively.
    public let arbitraryT: Bool
    public let contextBefore: Int
    public let contextAfter: Int
    public let needsWeights: Bool
    /// Whether swapping the two frames (t → 1 − t) gives the same frames: the model already averages both orders
    /// (RIFE HDv3), so an ensemble's swapped passes would only repeat it.
    public let swapSymmetric: Bool

    public init(name: String, summary: String, arbitraryT: Bool, contextBefore: Int = 0, contextAfter: Int = 0,
                needsWeights: Bool = false, swapSymmetric: Bool = false) {
        self.name = name; self.summary = summary; self.arbitraryT = arbitraryT
        self.contextBefore = contextBefore; self.contextAfter = contextAfter; self.needsWeights = needsWeights
        self.swapSymmetric = swapSymmetric
    }
}

/// A method that synthesises in-between frames: two input frames (plus optional context) and one or more
/// positions t in (0, 1) give one frame per t. Several t for one pair go in one call so that models can share
/// work (one flow estimate for all of them).
public protocol FrameInterpolator: AnyObject {
    var info: ModelInfo { get }
    func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image]
}

public enum InterpolatorError: Error, CustomStringConvertible {
    case unknownModel(String, available: [String])
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let available):
            return "unknown model '\(name)'; available: \(available.joined(separator: ", "))"
        case .shapeMismatch(let what): return "frames differ in size: \(what)"
        }
    }
}

/// Models with a flow stage that can run at a reduced resolution (RIFE's `--scale`: 0.5 for 4K).
public protocol FlowScalable: AnyObject {
    var scale: Float { get set }
}
