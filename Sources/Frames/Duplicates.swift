/// Finds frames that repeat the last kept frame: animation drawn on twos or threes, telecine, a stalled capture.
/// Each frame's luma thumbnail (as for scene cuts) is compared with the last frame kept: a frame is a duplicate when
/// the mean absolute difference is at most `threshold` percent of full scale and no thumbnail block differs by more
/// than `blockLimit` percent, so a small thing moving on a still background is not taken for a repeat.
public struct DuplicateDetector: Sendable {
    public let threshold: Double
    public let blockLimit: Double
    private var kept: [Float]?

    public init(threshold: Double = 0.5, blockLimit: Double = 5) {
        self.threshold = threshold; self.blockLimit = blockLimit
    }

    /// Feeds the next frame; true when it repeats the last kept frame (it is then not kept).
    public mutating func isDuplicate(_ image: Image) -> Bool {
        let thumb = SceneCutDetector.thumbnail(image)
        guard let previous = kept, previous.count == thumb.count else { kept = thumb; return false }
        var sum = 0.0, largest = 0.0
        for i in 0..<thumb.count {
            let d = Double(abs(thumb[i] - previous[i]))
            sum += d; largest = max(largest, d)
        }
        if 100 * sum / Double(thumb.count) <= threshold && 100 * largest <= blockLimit { return true }
        kept = thumb
        return false
    }
}
