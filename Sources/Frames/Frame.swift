/// Colour description of a picture, with the code points of ITU-T H.273 (the same numbers FFmpeg uses), so the
/// output can carry exactly the input's tags. 2 means "unspecified" for primaries, transfer and matrix; 0 for range.
public struct ColorTags: Hashable, Sendable {
    public var range: Int32
    public var primaries: Int32
    public var transfer: Int32
    public var matrix: Int32
    public init(range: Int32 = 0, primaries: Int32 = 2, transfer: Int32 = 2, matrix: Int32 = 2) {
        self.range = range; self.primaries = primaries; self.transfer = transfer; self.matrix = matrix
    }
    public static let unspecified = ColorTags()
}

/// One picture of a clip with its presentation time.
///
/// `native` is the decoder's own picture, kept so that an input frame that lands exactly on an output time can
/// be encoded untouched (bit-exact); the pipeline never looks inside it.
public struct Frame: @unchecked Sendable {
    public var image: Image
    /// Presentation time in seconds, exact.
    public var time: Rational
    /// How long the frame is shown, when the source says so.
    public var duration: Rational?
    public var native: AnyObject?

    public init(image: Image, time: Rational, duration: Rational? = nil, native: AnyObject? = nil) {
        self.image = image; self.time = time; self.duration = duration; self.native = native
    }
}
