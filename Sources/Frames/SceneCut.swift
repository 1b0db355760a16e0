/// Detects scene cuts between consecutive frames from small luma thumbnails.
///
/// The measure follows ffmpeg's `scdet`: the mean absolute luma difference in percent (mafd) between two
/// thumbnails, and the score min(mafd, |mafd − previous mafd|), so that steady fast motion (a high but constant
/// difference) does not read as a cut while a sudden change does.
public struct SceneCutDetector: Sendable {
    /// A cut is declared when the score exceeds this (percent of full scale).
    public let threshold: Double
    /// Thumbnails are about this wide.
    public static let thumbnailWidth = 64

    private var previousThumbnail: [Float]?
    private var previousMafd: Double?

    public init(threshold: Double = 10) { self.threshold = threshold }

    /// Feeds the next frame; returns whether there is a cut between the previous frame and this one, and the score.
    public mutating func push(_ image: Image) -> (cut: Bool, score: Double) {
        let thumb = SceneCutDetector.thumbnail(image)
        defer { previousThumbnail = thumb }
        guard let prev = previousThumbnail, prev.count == thumb.count else { previousMafd = nil; return (false, 0) }
        var sum = 0.0
        for i in 0..<thumb.count { sum += Double(abs(thumb[i] - prev[i])) }
        let mafd = 100 * sum / Double(thumb.count)
        let score = previousMafd.map { min(mafd, abs(mafd - $0)) } ?? mafd
        previousMafd = mafd
        return (score > threshold, score)
    }

    /// Luma (BT.601 weights; only a measure) averaged over square blocks. Whole rows are summed first so the
    /// inner loop runs over contiguous samples.
    public static func thumbnail(_ image: Image) -> [Float] {
        let block = max(1, image.width / thumbnailWidth)
        let tw = image.width / block, th = max(1, image.height / block)
        var out = [Float](repeating: 0, count: tw * th)
        let weights: [Float] = image.channels >= 3 ? [0.299, 0.587, 0.114] : [1]
        let norm = 1 / Float(block * block)
        let w = image.width
        var rowSum = [Float](repeating: 0, count: w)
        image.data.withUnsafeBufferPointer { px in
            rowSum.withUnsafeMutableBufferPointer { acc in
                for ty in 0..<th {
                    for i in 0..<w { acc[i] = 0 }
                    for (c, weight) in weights.enumerated() {
                        for y in (ty * block)..<min(image.height, (ty + 1) * block) {
                            let row = px.baseAddress! + c * image.planeSize + y * w
                            for x in 0..<w { acc[x] += weight * row[x] }
                        }
                    }
                    for tx in 0..<tw {
                        var s: Float = 0
                        for x in (tx * block)..<((tx + 1) * block) { s += acc[x] }
                        out[ty * tw + tx] = s * norm
                    }
                }
            }
        }
        return out
    }
}
