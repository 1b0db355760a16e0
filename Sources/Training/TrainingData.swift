import Foundation

/// A deterministic generator (SplitMix64): the same seed gives the same samples, crops and augmentations.
public struct SeededRandom: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    public mutating func uniform(_ a: Float, _ b: Float) -> Float { a + (b - a) * Float(next() >> 40) / Float(1 << 24) }
    public mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
    public mutating func bool() -> Bool { next() & 1 == 1 }
}

/// A frame or photo kept as 8-bit planar RGB (training material is large; floats are made per crop).
public struct RGBPlanes: Sendable {
    public let width: Int, height: Int
    public var bytes: [UInt8]

    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == 3 * width * height)
        self.width = width; self.height = height; self.bytes = bytes
    }

    /// From planar float RGB(A) in 0…1.
    public init(width: Int, height: Int, planar: [Float]) {
        let n = width * height
        var b = [UInt8](repeating: 0, count: 3 * n)
        for i in 0..<(3 * n) { b[i] = UInt8(max(0, min(255, (planar[i] * 255).rounded()))) }
        self.init(width: width, height: height, bytes: b)
    }

    /// A size×size window at (x, y) as planar floats in 0…1.
    public func crop(x: Int, y: Int, size: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * size * size)
        for c in 0..<3 {
            for r in 0..<size {
                let src = (c * height + y + r) * width + x, dst = (c * size + r) * size
                for k in 0..<size { out[dst + k] = Float(bytes[src + k]) * (1 / 255) }
            }
        }
        return out
    }

    /// Bilinear sample of channel c at (x, y) with edge clamping.
    @inline(__always) func sample(_ c: Int, _ x: Float, _ y: Float) -> Float {
        let xc = min(max(x, 0), Float(width - 1)), yc = min(max(y, 0), Float(height - 1))
        let x0 = Int(xc), y0 = Int(yc), x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let fx = xc - Float(x0), fy = yc - Float(y0)
        let base = c * height
        let a = Float(bytes[(base + y0) * width + x0]), b = Float(bytes[(base + y0) * width + x1])
        let d = Float(bytes[(base + y1) * width + x0]), e = Float(bytes[(base + y1) * width + x1])
        return ((a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy) * (1 / 255)
    }
}

/// One training example: two input frames, the target frame at t, and optionally the teacher's data at t: its flows
/// (Fₜ→₀ then Fₜ→₁, pixels), its fusion mask (the weight of frame 0) and its frame. Planar floats, size×size.
public struct TrainingSample: Sendable {
    public var size: Int
    public var first: [Float], middle: [Float], last: [Float]
    public var t: Float
    public var teacherFlow: [Float]?
    public var teacherMask: [Float]?
    public var teacherFrame: [Float]?
    /// The target is the teacher's frame (a real pair with no recorded middle frame), not a recorded one.
    public var middleFromTeacher = false

    public init(size: Int, first: [Float], middle: [Float], last: [Float], t: Float, teacherFlow: [Float]? = nil,
                teacherMask: [Float]? = nil, teacherFrame: [Float]? = nil, middleFromTeacher: Bool = false) {
        self.size = size; self.first = first; self.middle = middle; self.last = last; self.t = t; self.teacherFlow = teacherFlow
        self.teacherMask = teacherMask; self.teacherFrame = teacherFrame; self.middleFromTeacher = middleFromTeacher
    }

    /// Every per-pixel field through `f` (channels, negated channels under this transform, the field's values).
    func mapped(_ f: ([Float], _ channels: Int, _ negate: Set<Int>) -> [Float], flowNegate: Set<Int>, size s: Int) -> TrainingSample {
        TrainingSample(size: s, first: f(first, 3, []), middle: f(middle, 3, []), last: f(last, 3, []), t: t,
                       teacherFlow: teacherFlow.map { f($0, 4, flowNegate) }, teacherMask: teacherMask.map { f($0, 1, []) },
                       teacherFrame: teacherFrame.map { f($0, 3, []) }, middleFromTeacher: middleFromTeacher)
    }

    /// A size×size window at (x, y) of a larger sample.
    public func cropped(x: Int, y: Int, to s: Int) -> TrainingSample {
        mapped({ a, channels, _ in
            var out = [Float](repeating: 0, count: channels * s * s)
            for c in 0..<channels { for r in 0..<s {
                let src = (c * size + y + r) * size + x
                for k in 0..<s { out[(c * s + r) * s + k] = a[src + k] }
            } }
            return out
        }, flowNegate: [], size: s)
    }

    /// Mirrored left–right: the flows' x components change sign.
    public func flippedHorizontally() -> TrainingSample {
        mapped({ a, channels, negate in
            var out = a
            for c in 0..<channels { for r in 0..<size {
                let row = (c * size + r) * size
                for k in 0..<size { out[row + k] = negate.contains(c) ? -a[row + size - 1 - k] : a[row + size - 1 - k] }
            } }
            return out
        }, flowNegate: [0, 2], size: size)
    }

    /// Mirrored top–bottom: the flows' y components change sign.
    public func flippedVertically() -> TrainingSample {
        mapped({ a, channels, negate in
            var out = a
            for c in 0..<channels { for r in 0..<size {
                let dst = (c * size + r) * size, src = (c * size + size - 1 - r) * size
                for k in 0..<size { out[dst + k] = negate.contains(c) ? -a[src + k] : a[src + k] }
            } }
            return out
        }, flowNegate: [1, 3], size: size)
    }

    /// Played backwards: the end frames swap, t becomes 1 − t, the flows to the two ends swap and the mask (frame 0's
    /// weight) becomes 1 − mask.
    public func reversed() -> TrainingSample {
        let n2 = 2 * size * size
        return TrainingSample(size: size, first: last, middle: middle, last: first, t: 1 - t,
                              teacherFlow: teacherFlow.map { Array($0[n2...] + $0[..<n2]) },
                              teacherMask: teacherMask.map { $0.map { 1 - $0 } }, teacherFrame: teacherFrame,
                              middleFromTeacher: middleFromTeacher)
    }

    /// Random flips, temporal reversal and a colour jitter shared by the frames; flows follow the geometry.
    public func augmented(_ rng: inout SeededRandom) -> TrainingSample {
        var s = self
        if rng.bool() { s = s.flippedHorizontally() }
        if rng.bool() { s = s.flippedVertically() }
        if rng.bool() { s = s.reversed() }
        // Colour jitter: per-channel gain and a shared offset, small enough to keep frames natural.
        let n = size * size
        let gains = (0..<3).map { _ in rng.uniform(0.9, 1.1) }, offset = rng.uniform(-0.05, 0.05)
        for c in 0..<3 {
            for i in (c * n)..<((c + 1) * n) {
                s.first[i] = min(1, max(0, s.first[i] * gains[c] + offset))
                s.middle[i] = min(1, max(0, s.middle[i] * gains[c] + offset))
                s.last[i] = min(1, max(0, s.last[i] * gains[c] + offset))
            }
        }
        if var frame = s.teacherFrame {
            for c in 0..<3 { for i in (c * n)..<((c + 1) * n) { frame[i] = min(1, max(0, frame[i] * gains[c] + offset)) } }
            s.teacherFrame = frame
        }
        return s
    }
}
