import Frames

/// Repeats the nearer input frame (the left one at t = ½): what a player does without interpolation.
public final class NearestInterpolator: FrameInterpolator {
    public static let info = ModelInfo(name: "nearest", summary: "repeat the nearer input frame", arbitraryT: true)
    public var info: ModelInfo { Self.info }
    public init() {}
    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        times.map { $0 <= 0.5 ? window.left : window.right }
    }
}

/// Cross-fades the two input frames: (1 − t)·left + t·right.
public final class BlendInterpolator: FrameInterpolator {
    public static let info = ModelInfo(name: "blend", summary: "cross-fade of the two frames (ffmpeg framerate)",
                                       arbitraryT: true)
    public var info: ModelInfo { Self.info }
    public init() {}
    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        let a = window.left, b = window.right
        guard a.sameShape(as: b) else {
            throw InterpolatorError.shapeMismatch("\(a.width)×\(a.height) and \(b.width)×\(b.height)")
        }
        return times.map { t in
            let n = a.data.count
            // Every sample is written, so the buffer is not zeroed first.
            let out = [Float](unsafeUninitializedCapacity: n) { po, count in
                a.data.withUnsafeBufferPointer { pa in
                    b.data.withUnsafeBufferPointer { pb in
                        let wa = 1 - t
                        for i in 0..<n { po[i] = wa * pa[i] + t * pb[i] }
                    }
                }
                count = n
            }
            return Image(width: a.width, height: a.height, channels: a.channels, data: out)
        }
    }
}
