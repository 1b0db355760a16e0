/// Where one output frame comes from: the input pair that brackets its time and the position `t` between them.
public struct OutputSlot: Equatable, Sendable {
    /// Output frame number, from 0.
    public let index: Int64
    /// Time sampled in the input's timeline (seconds).
    public let time: Rational
    /// Input frame at or before `time`.
    public let left: Int
    /// The next input frame, or nil past the last one (the last frame is held).
    public let right: Int?
    /// Position between `left` and `right`, in [0, 1).
    public let t: Rational
    /// The output time is exactly the time of input frame `left`: that frame is passed through untouched.
    public let isPassThrough: Bool
}

/// Plans the output of a frame-rate conversion in exact arithmetic, streaming: input times go in one at a time,
/// and each output slot comes out as soon as it is certain.
///
/// Output frame k samples the input timeline at start + k/R. As with ffmpeg's `fps` filter the output covers
/// the input's whole duration: inputs spanning D seconds (last frame's duration included) give round(D·R)
/// frames. A slot is released only once the input is known to extend past (k + ½)/R, which proves k < round(D·R)
/// before the end is known.
public struct Retimer: Sendable {
    /// Output frames per second of input time (for slow motion, N times the input rate).
    public let sampleRate: Rational
    private var start: Rational?
    private var times: [Rational] = []   // times of input frames firstLive..<count
    private var firstLive = 0
    private var count = 0
    private var nextK: Int64 = 0
    private var finished = false

    public init(sampleRate: Rational) {
        precondition(sampleRate.num > 0)
        self.sampleRate = sampleRate
    }

    /// Input frames before this index are no longer needed by any future slot.
    public var firstNeededInput: Int { firstLive }
    public var inputCount: Int { count }
    public var outputCount: Int64 { nextK }

    private func time(of k: Int64) -> Rational { start! + Rational(k) / sampleRate }

    /// Adds input frame number `inputCount` at `time` (seconds); times must increase strictly.
    public mutating func push(time t: Rational) -> [OutputSlot] {
        precondition(!finished, "push after finish")
        if let last = times.last { precondition(last < t, "input times must increase") }
        if start == nil { start = t }
        times.append(t)
        count += 1
        return drain(end: nil)
    }

    /// Ends the input at `end` (seconds: last frame's time plus its duration) and returns the remaining slots.
    public mutating func finish(end: Rational) -> [OutputSlot] {
        precondition(!finished)
        finished = true
        guard let start, let last = times.last else { return [] }
        precondition(last < end, "end must come after the last frame")
        return drain(end: end - start)
    }

    /// Total output frame count for inputs spanning `duration` seconds.
    public static func outputCount(duration: Rational, sampleRate: Rational) -> Int64 {
        (duration * sampleRate).rounded
    }

    private mutating func drain(end duration: Rational?) -> [OutputSlot] {
        guard let start else { return [] }
        var out: [OutputSlot] = []
        let total = duration.map { Retimer.outputCount(duration: $0, sampleRate: sampleRate) }
        let known = times.last! - start
        while true {
            let k = nextK
            if let total {
                if k >= total { break }
            } else {
                // Released only when the input provably lasts past (k + ½)/R.
                if known < (Rational(k) + Rational(1, 2)) / sampleRate { break }
            }
            let tk = time(of: k)
            // Find the live frame at or before tk.
            var i = 0
            while i + 1 < times.count && times[i + 1] <= tk { i += 1 }
            if i + 1 < times.count {
                let t = (tk - times[i]) / (times[i + 1] - times[i])
                out.append(OutputSlot(index: k, time: tk, left: firstLive + i, right: firstLive + i + 1, t: t,
                                      isPassThrough: t == .zero))
            } else if total != nil {
                out.append(OutputSlot(index: k, time: tk, left: firstLive + i, right: nil, t: .zero,
                                      isPassThrough: tk == times[i]))
            } else {
                break  // the frame after tk has not arrived yet
            }
            nextK += 1
            if i > 0 { times.removeFirst(i); firstLive += i }
        }
        return out
    }

    /// The whole plan for known input times and end; used by tests and for reporting.
    public static func plan(times: [Rational], end: Rational, sampleRate: Rational) -> [OutputSlot] {
        var r = Retimer(sampleRate: sampleRate)
        var slots: [OutputSlot] = []
        for t in times { slots += r.push(time: t) }
        slots += r.finish(end: end)
        return slots
    }
}
