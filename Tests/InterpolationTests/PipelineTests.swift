import XCTest
import Frames
import Models
@testable import Interpolation

/// A token standing in for a decoder's picture, to check that pass-through frames are the input's own.
final class Token { let index: Int; init(_ i: Int) { index = i } }

final class PipelineTests: XCTestCase {
    /// Frame i: every sample equals i/1000 (a different value per frame, exact enough for blends to be checked).
    func frames(_ n: Int, rate: Rational, width: Int = 8, height: Int = 4, value: (Int) -> Float = { Float($0) / 1000 }) -> [Frame] {
        (0..<n).map { i in
            Frame(image: Image(width: width, height: height, fill: value(i)), time: Rational(Int64(i)) / rate,
                  duration: rate.reciprocal, native: Token(i))
        }
    }

    func run(_ input: [Frame], model: FrameInterpolator = BlendInterpolator(), config: PipelineConfig,
             progress: ((PipelineSummary) -> Void)? = nil) throws -> ([OutputFrame], PipelineSummary) {
        var next = 0
        var out: [OutputFrame] = []
        let lock = NSLock()
        let summary = try InterpolationPipeline(interpolator: model, config: config).run(
            source: { defer { next += 1 }; return next < input.count ? input[next] : nil },
            sink: { f in lock.lock(); out.append(f); lock.unlock() }, progress: progress)
        return (out, summary)
    }

    func testBlendIsExactOnAHandCheckableInput() throws {
        let a = Image(width: 2, height: 1, channels: 1, data: [0, 1])
        let b = Image(width: 2, height: 1, channels: 1, data: [1, 0.5])
        let out = try BlendInterpolator().interpolate(FrameWindow(left: a, right: b), at: [0.25, 0.5])
        XCTAssertEqual(out[0].data, [0.25, 0.875])   // 0.75·0 + 0.25·1, 0.75·1 + 0.25·0.5
        XCTAssertEqual(out[1].data, [0.5, 0.75])
        let n = try NearestInterpolator().interpolate(FrameWindow(left: a, right: b), at: [0.5, 0.51])
        XCTAssertEqual(n[0], a); XCTAssertEqual(n[1], b)
    }

    func test25to60PassesThroughAndBlends() throws {
        let input = frames(200, rate: Rational(25))
        let (out, summary) = try run(input, config: PipelineConfig(sampleRate: Rational(60), sceneCutThreshold: nil))
        XCTAssertEqual(out.count, 480)
        XCTAssertEqual(out.map(\.index), (0..<480).map { Int64($0) })
        XCTAssertEqual(summary.framesIn, 200)
        XCTAssertEqual(summary.passedThrough, 40)   // every 12th output lands on every 5th input
        for f in out {
            switch f.kind {
            case .passThrough:
                XCTAssertEqual((f.native as? Token)?.index, f.slot.left)   // the input's own picture
                XCTAssertEqual(f.image, input[f.slot.left].image)
            case .interpolated:
                let t = Float(f.slot.t.doubleValue)
                let expected = (1 - t) * Float(f.slot.left) / 1000 + t * Float(f.slot.right!) / 1000
                XCTAssertEqual(f.image.data[0], expected, accuracy: 1e-7)
                XCTAssertNil(f.native)
            case .held:
                XCTAssertEqual(f.slot.left, 199)   // only after the last input frame
            }
        }
    }

    func testSceneCutHoldsTheNearerFrame() throws {
        // Frames 0–9 dark, 10–19 bright: a cut between 9 and 10.
        let input = frames(20, rate: Rational(25)) { $0 < 10 ? 0.1 : 0.9 }
        let (out, summary) = try run(input, config: PipelineConfig(sampleRate: Rational(100), sceneCutThreshold: 10))
        XCTAssertEqual(summary.cuts, 1)
        XCTAssertEqual(summary.cutTimes, [Rational(10, 25)])
        let across = out.filter { $0.slot.left == 9 }
        XCTAssertEqual(across.count, 4)
        for f in across {
            XCTAssertEqual(f.image.data[0], f.slot.t < Rational(1, 2) ? 0.1 : 0.9)   // never a mix
        }
        // With detection off the same gap is blended.
        let (blended, s2) = try run(input, config: PipelineConfig(sampleRate: Rational(100), sceneCutThreshold: nil))
        XCTAssertEqual(s2.cuts, 0)
        XCTAssertEqual(blended.first { $0.slot.left == 9 && $0.slot.t == Rational(1, 2) }!.image.data[0], 0.5, accuracy: 1e-6)
    }

    func testSlowMotionQuadruplesFrames() throws {
        let (out, _) = try run(frames(10, rate: Rational(30)), config: PipelineConfig(sampleRate: Rational(120), sceneCutThreshold: nil))
        XCTAssertEqual(out.count, 40)
    }

    func testTooFewFramesAndSizeChangeAreErrors() {
        XCTAssertThrowsError(try run(frames(1, rate: Rational(25)), config: PipelineConfig(sampleRate: Rational(50)))) {
            XCTAssertEqual("\($0)", "needs at least two frames, found 1")
        }
        var input = frames(5, rate: Rational(25))
        input[3] = Frame(image: Image(width: 4, height: 4), time: input[3].time)
        XCTAssertThrowsError(try run(input, config: PipelineConfig(sampleRate: Rational(50)))) {
            XCTAssertEqual("\($0)", "frame 3 changes size (8×4 then 4×4); all frames must match")
        }
    }

    func testErrorInSinkStopsEverything() {
        struct Boom: Error {}
        var next = 0
        XCTAssertThrowsError(try InterpolationPipeline(interpolator: BlendInterpolator(),
                                                       config: PipelineConfig(sampleRate: Rational(50))).run(
            source: { defer { next += 1 }; return next < 10_000 ? Frame(image: Image(width: 2, height: 2), time: Rational(Int64(next), 25)) : nil },
            sink: { f in if f.index == 3 { throw Boom() } })) { XCTAssertTrue($0 is Boom) }
        XCTAssertLessThan(next, 100)   // the decoder stopped early instead of reading everything
    }

    func testMemoryStaysBoundedByTheQueues() throws {
        // The source runs ahead of the sink by at most the queue capacities plus the frames being worked on.
        let capacity = 3
        var pulled = 0
        var written = 0
        var maxAhead = 0
        let lock = NSLock()
        _ = try InterpolationPipeline(interpolator: BlendInterpolator(),
                                      config: PipelineConfig(sampleRate: Rational(50), sceneCutThreshold: nil, queueCapacity: capacity)).run(
            source: {
                lock.lock(); defer { lock.unlock() }
                maxAhead = max(maxAhead, pulled - written / 2)
                pulled += 1
                return pulled <= 500 ? Frame(image: Image(width: 4, height: 4), time: Rational(Int64(pulled), 25)) : nil
            },
            sink: { _ in usleep(200); lock.lock(); written += 1; lock.unlock() })
        XCTAssertLessThanOrEqual(maxAhead, 2 * capacity + 4, "frames in flight must not grow with the clip's length")
    }

    /// A model that only makes midpoints, counting its calls.
    final class MidpointOnly: FrameInterpolator {
        let info = ModelInfo(name: "mid", summary: "", arbitraryT: false)
        var calls = 0
        func interpolate(_ w: FrameWindow, at times: [Float]) throws -> [Image] {
            XCTAssertEqual(times, [0.5]); calls += 1
            return try BlendInterpolator().interpolate(w, at: times)
        }
    }

    func testMidpointModelsReachOtherTimesByHalving() throws {
        let model = MidpointOnly()
        let input = frames(3, rate: Rational(25)) { Float($0) }
        let (out, _) = try run(input, model: model, config: PipelineConfig(sampleRate: Rational(100), sceneCutThreshold: nil))
        // t = 1/4, 1/2, 3/4 in each of two gaps: 3 midpoints per gap, shared.
        XCTAssertEqual(model.calls, 6)
        XCTAssertEqual(out[1].image.data[0], 0.25); XCTAssertEqual(out[2].image.data[0], 0.5); XCTAssertEqual(out[3].image.data[0], 0.75)
    }

    /// Records the largest number of frames asked for in one call.
    final class CountingBlend: FrameInterpolator {
        let info = ModelInfo(name: "counting", summary: "", arbitraryT: true)
        var largest = 0, calls = 0
        func interpolate(_ w: FrameWindow, at times: [Float]) throws -> [Image] {
            largest = max(largest, times.count); calls += 1
            return try BlendInterpolator().interpolate(w, at: times)
        }
    }

    /// Slow motion 128× asks for a gap's 127 in-between frames in groups that fit `bytesPerCall` (here 10 frames of
    /// 8 × 4 × 3 floats), and the frames are the same as in one call.
    func testSlowMotionFramesAreMadeInGroupsThatFitTheBudget() throws {
        let input = frames(3, rate: Rational(25))
        let grouped = CountingBlend(), whole = CountingBlend()
        let frameBytes = 8 * 4 * 3 * 4
        let (a, _) = try run(input, model: grouped, config: PipelineConfig(sampleRate: Rational(25 * 128), sceneCutThreshold: nil,
                                                                           bytesPerCall: 10 * frameBytes + 5))
        let (b, _) = try run(input, model: whole, config: PipelineConfig(sampleRate: Rational(25 * 128), sceneCutThreshold: nil))
        XCTAssertEqual(grouped.largest, 10)
        XCTAssertEqual(grouped.calls, 2 * 13)   // 127 = 12 · 10 + 7 per gap
        XCTAssertEqual(whole.largest, 127)
        XCTAssertEqual(a.map(\.image), b.map(\.image))
        XCTAssertEqual(a.count, 3 * 128)
    }
}
