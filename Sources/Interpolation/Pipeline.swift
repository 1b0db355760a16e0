import Foundation
import Frames
import Models

/// How a conversion is planned.
public struct PipelineConfig: Sendable {
    /// Output frames per second of input time: the target rate, or N × the input rate for N× slow motion.
    public var sampleRate: Rational
    /// Scene-cut score threshold (percent); nil turns detection off.
    public var sceneCutThreshold: Double?
    /// Duration of the last frame when the source does not say (1 / the nominal input rate).
    public var fallbackFrameDuration: Rational?
    /// Frames in flight between decoder, interpolator and encoder.
    public var queueCapacity: Int
    /// For midpoint-only models: how many halvings at most to approach t (4 → sixteenths).
    public var maxHalvings: Int
    /// Bytes of in-between frames one interpolator call may return: a gap's frames are asked for in groups that fit
    /// (at least one), and each group goes on to the encoder before the next is made, so that slow motion by any
    /// factor holds only a few frames (256 MB: ten 1080p frames, two 4K ones).
    public var bytesPerCall: Int

    public init(sampleRate: Rational, sceneCutThreshold: Double? = 10, fallbackFrameDuration: Rational? = nil,
                queueCapacity: Int = 2, maxHalvings: Int = 4, bytesPerCall: Int = 256 << 20) {
        self.sampleRate = sampleRate; self.sceneCutThreshold = sceneCutThreshold
        self.fallbackFrameDuration = fallbackFrameDuration; self.queueCapacity = queueCapacity
        self.maxHalvings = maxHalvings; self.bytesPerCall = bytesPerCall
    }

    /// In-between frames per interpolator call for frames of this shape.
    public func framesPerCall(_ image: Image) -> Int { max(1, bytesPerCall / max(1, image.data.count * 4)) }
}

/// One output frame, in output order.
public struct OutputFrame: @unchecked Sendable {
    public enum Kind: Sendable { case passThrough, interpolated, held }
    public let slot: OutputSlot
    public let image: Image
    /// The decoder's picture when this frame is an input frame passed through untouched.
    public let native: AnyObject?
    public let kind: Kind
    public var index: Int64 { slot.index }
}

public struct PipelineSummary: Sendable, Equatable {
    public var framesIn = 0
    public var framesOut: Int64 = 0
    public var passedThrough: Int64 = 0
    public var interpolated: Int64 = 0
    /// Output frames that repeat an input frame instead of morphing (across a cut, or after the last frame).
    public var held: Int64 = 0
    /// Input frames dropped because their time did not increase.
    public var droppedInputs = 0
    /// Times (seconds) of the first frame after each detected cut.
    public var cutTimes: [Rational] = []
    public var cuts: Int { cutTimes.count }
}

public enum PipelineError: Error, CustomStringConvertible {
    case tooFewFrames(Int)
    case frameSizeChanged(index: Int, String)
    public var description: String {
        switch self {
        case .tooFewFrames(let n): return "needs at least two frames, found \(n)"
        case .frameSizeChanged(let i, let s): return "frame \(i) changes size (\(s)); all frames must match"
        }
    }
}

/// Retimes a stream of frames: plans each output time exactly, passes input frames through where they land on
/// an output time, holds the nearer frame across scene cuts, and asks the interpolator for everything else.
/// Decoding, interpolation and encoding run on three threads joined by bounded queues. No file or codec here:
/// frames come from `source` and go to `sink`.
public final class InterpolationPipeline {
    public let interpolator: FrameInterpolator
    public let config: PipelineConfig

    public init(interpolator: FrameInterpolator, config: PipelineConfig) {
        self.interpolator = interpolator; self.config = config
    }

    /// Runs to the end of `source` (which returns nil at the end). `progress` is called after each output frame.
    public func run(source: @escaping () throws -> Frame?,
                    sink: @escaping (OutputFrame) throws -> Void,
                    progress: ((PipelineSummary) -> Void)? = nil) throws -> PipelineSummary {
        let input = BoundedQueue<Frame>(capacity: config.queueCapacity)
        let output = BoundedQueue<OutputFrame>(capacity: config.queueCapacity)
        let failure = FirstError()

        let decoder = Thread {
            do {
                while let frame = try source() { if !input.push(frame) { break } }
                input.close()
            } catch {
                failure.record(error); input.cancel(); output.cancel()
            }
        }
        let encoderDone = DispatchSemaphore(value: 0)
        let encoder = Thread {
            defer { encoderDone.signal() }
            do {
                while let frame = output.pop() { try sink(frame) }
            } catch {
                failure.record(error); input.cancel(); output.cancel()
            }
        }
        decoder.stackSize = 1 << 22; encoder.stackSize = 1 << 22
        decoder.start(); encoder.start()

        var summary = PipelineSummary()
        do {
            summary = try plan(input: input) { frame, summary in
                if !output.push(frame) { throw CancellationError() }
                progress?(summary)
            }
            output.close()
        } catch {
            if !(error is CancellationError) { failure.record(error) }
            input.cancel(); output.cancel()
        }
        encoderDone.wait()
        if let error = failure.error { throw error }
        return summary
    }

    /// The planning and interpolation loop, on the calling thread.
    private func plan(input: BoundedQueue<Frame>,
                      emit: (OutputFrame, PipelineSummary) throws -> Void) throws -> PipelineSummary {
        var summary = PipelineSummary()
        var retimer = Retimer(sampleRate: config.sampleRate)
        var detector = config.sceneCutThreshold.map { SceneCutDetector(threshold: $0) }
        var window: [Int: Frame] = [:]     // live input frames by index
        var cutBefore: Set<Int> = []        // input index j: a cut lies between j-1 and j
        var last: Frame?
        var first: Frame?
        let info = interpolator.info
        let halving = info.arbitraryT ? nil : MidpointCache(interpolator: interpolator, maxHalvings: config.maxHalvings)

        func release(_ slots: [OutputSlot]) throws {
            var i = 0
            while i < slots.count {
                let slot = slots[i]
                let left = window[slot.left]!
                if slot.isPassThrough || slot.right == nil {
                    let kind: OutputFrame.Kind = slot.isPassThrough ? .passThrough : .held
                    if kind == .passThrough { summary.passedThrough += 1 } else { summary.held += 1 }
                    summary.framesOut += 1
                    try emit(OutputFrame(slot: slot, image: left.image, native: left.native, kind: kind), summary)
                    i += 1
                    continue
                }
                let r = slot.right!
                let right = window[r]!
                if cutBefore.contains(r) {
                    // Across a cut: the nearer frame, never a morph.
                    let useRight = slot.t >= Rational(1, 2)
                    let f = useRight ? right : left
                    summary.held += 1; summary.framesOut += 1
                    try emit(OutputFrame(slot: slot, image: f.image, native: f.native, kind: .held), summary)
                    i += 1
                    continue
                }
                // All slots for this pair go in one call.
                var group = [slot]
                while i + group.count < slots.count, let next = Optional(slots[i + group.count]),
                      next.left == slot.left, next.right == r, !next.isPassThrough {
                    group.append(next)
                }
                var before: [Image] = [], after: [Image] = []
                if info.contextBefore > 0 {
                    for j in max(0, slot.left - info.contextBefore)..<slot.left { if let f = window[j] { before.append(f.image) } }
                }
                if info.contextAfter > 0 {
                    for j in (r + 1)...(r + info.contextAfter) { if let f = window[j] { after.append(f.image) } }
                }
                let frameWindow = FrameWindow(before: before, left: left.image, right: right.image, after: after)
                let perCall = config.framesPerCall(left.image)
                for start in stride(from: 0, to: group.count, by: perCall) {
                    let part = group[start..<min(group.count, start + perCall)]
                    let ts = part.map { Float($0.t.doubleValue) }
                    let images = try halving.map { try $0.interpolate(frameWindow, pair: slot.left, at: ts) }
                        ?? interpolator.interpolate(frameWindow, at: ts)
                    for (s, image) in zip(part, images) {
                        summary.interpolated += 1; summary.framesOut += 1
                        try emit(OutputFrame(slot: s, image: image, native: nil, kind: .interpolated), summary)
                    }
                }
                i += group.count
            }
            // Keep what future slots (and context) may still need.
            let keepFrom = retimer.firstNeededInput - info.contextBefore
            for key in window.keys where key < keepFrom { window[key] = nil }
            cutBefore = cutBefore.filter { $0 >= keepFrom }
        }

        // Context after the right frame is taken when present; slots are released as soon as the retimer is sure,
        // so a model with contextAfter > 0 sees the frames that have arrived by then.
        while let frame = input.pop() {
            if let prev = last {
                if !(prev.time < frame.time) { summary.droppedInputs += 1; continue }
                if !frame.image.sameShape(as: prev.image) {
                    throw PipelineError.frameSizeChanged(
                        index: summary.framesIn,
                        "\(prev.image.width)×\(prev.image.height) then \(frame.image.width)×\(frame.image.height)")
                }
            }
            let index = summary.framesIn
            summary.framesIn += 1
            if var d = detector {
                if d.push(frame.image).cut { cutBefore.insert(index); summary.cutTimes.append(frame.time) }
                detector = d
            }
            window[index] = frame
            if first == nil { first = frame }
            last = frame
            halving?.forget(before: retimer.firstNeededInput)
            try release(retimer.push(time: frame.time))
        }
        guard summary.framesIn >= 2, let last else { throw PipelineError.tooFewFrames(summary.framesIn) }
        // Without any duration information the last frame lasts one average frame interval.
        let duration = last.duration ?? config.fallbackFrameDuration
            ?? (last.time - first!.time) / Rational(Int64(summary.framesIn - 1))
        try release(retimer.finish(end: last.time + duration))
        return summary
    }
}

/// Keeps the first error of several threads.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func record(_ e: Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
}
