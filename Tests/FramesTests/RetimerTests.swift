import XCTest
@testable import Frames

final class RetimerTests: XCTestCase {
    /// N frames at rate r: times i/r, lasting N/r seconds.
    func cfr(_ n: Int, _ r: Rational, start: Rational = .zero) -> (times: [Rational], end: Rational) {
        ((0..<n).map { start + Rational(Int64($0)) / r }, start + Rational(Int64(n)) / r)
    }

    /// The slot for output k computed directly, without streaming state.
    func reference(_ k: Int64, times: [Rational], rate: Rational) -> (Int, Int?, Rational) {
        let tk = times[0] + Rational(k) / rate
        var i = 0
        while i + 1 < times.count && times[i + 1] <= tk { i += 1 }
        if i + 1 == times.count { return (i, nil, .zero) }
        return (i, i + 1, (tk - times[i]) / (times[i + 1] - times[i]))
    }

    func testHandExample25to60() {
        let (times, end) = cfr(5, Rational(25))
        let slots = Retimer.plan(times: times, end: end, sampleRate: Rational(60))
        XCTAssertEqual(slots.count, 12)   // 5 frames at 25 = 0.2 s = 12 frames at 60
        // Output 1 is at 1/60 s: between input 0 (0 s) and 1 (1/25 s), t = (1/60)/(1/25) = 5/12.
        XCTAssertEqual(slots[1].left, 0); XCTAssertEqual(slots[1].right, 1); XCTAssertEqual(slots[1].t, Rational(5, 12))
        // Output 5 is at 1/12 s: input 2 is at 2/25, t = (1/12 − 2/25)·25 = 1/12.
        XCTAssertEqual(slots[5].left, 2); XCTAssertEqual(slots[5].t, Rational(1, 12))
        XCTAssertTrue(slots[0].isPassThrough)
        XCTAssertEqual(slots.filter(\.isPassThrough).map(\.index), [0])
        // Past the last input (10/60 and 11/60 s > 4/25 s) the last frame is held, not passed through.
        XCTAssertFalse(slots[10].isPassThrough)
        // The last output (11/60 s) is past the last input (4/25 s): the last frame is held.
        XCTAssertEqual(slots[11].left, 4); XCTAssertNil(slots[11].right)
    }

    func testCountsForCommonRatePairs() {
        let rates: [Rational] = [Rational(24000, 1001), Rational(24), Rational(25), Rational(30000, 1001), Rational(30),
                                 Rational(50), Rational(60000, 1001), Rational(60), Rational(120000, 1001), Rational(120)]
        for r in rates {
            for target in rates + [r * 2, r * Rational(5, 2), r * 4] {
                for n in [2, 3, 200, 241] {
                    let (times, end) = cfr(n, r)
                    let slots = Retimer.plan(times: times, end: end, sampleRate: target)
                    let expected = (Rational(Int64(n)) * target / r).rounded
                    XCTAssertEqual(Int64(slots.count), expected, "\(n) frames \(r) → \(target)")
                    for (k, s) in slots.enumerated() {
                        XCTAssertEqual(s.index, Int64(k))
                        let (l, rr, t) = reference(Int64(k), times: times, rate: target)
                        XCTAssertEqual(s.left, l); XCTAssertEqual(s.right, rr); XCTAssertEqual(s.t, t)
                        XCTAssertTrue(s.t >= .zero && s.t < .one)
                    }
                }
            }
        }
    }

    func testIssueExamples() {
        let (t1, e1) = cfr(200, Rational(25))
        XCTAssertEqual(Retimer.plan(times: t1, end: e1, sampleRate: Rational(60)).count, 480)
        let (t2, e2) = cfr(240, Rational(24000, 1001))
        let s2 = Retimer.plan(times: t2, end: e2, sampleRate: Rational(60000, 1001))
        XCTAssertEqual(s2.count, 600)
        // 2.5× exactly: every other input frame lands on an output time and passes through.
        XCTAssertEqual(s2.filter(\.isPassThrough).count, 120)
    }

    func testTwoHourConversionHasNoDrift() {
        // Two hours at 24000/1001 is 172,627.2… frames; take the whole frames: 172,627.
        let r = Rational(24000, 1001), R = Rational(60000, 1001)
        let n: Int64 = 172_627
        var retimer = Retimer(sampleRate: R)
        var count: Int64 = 0, last: OutputSlot?
        for i in 0..<n {
            let s = retimer.push(time: Rational(i) / r)
            count += Int64(s.count); last = s.last ?? last
            XCTAssertLessThanOrEqual(retimer.inputCount - retimer.firstNeededInput, 2)  // bounded window
        }
        let tail = retimer.finish(end: Rational(n) / r)
        count += Int64(tail.count); last = tail.last ?? last
        let expected = (Rational(n) * R / r).rounded          // 431,567.5 → 431,568
        XCTAssertEqual(count, expected)
        XCTAssertEqual(count, 431_568)
        XCTAssertEqual(last!.index, expected - 1)
        XCTAssertEqual(last!.time, Rational(expected - 1) / R)  // exactly, no accumulated error
    }

    func testDownsamplingReleasesOnlyCertainSlots() {
        // 120 → 24: each output frame needs the input to extend half an output interval past it.
        let (times, end) = cfr(241, Rational(120))
        var r = Retimer(sampleRate: Rational(24))
        var streamed: [OutputSlot] = []
        for t in times {
            streamed += r.push(time: t)
            // Bounded by the rate ratio (5 inputs per output) plus half an output interval (2.5 inputs).
            XCTAssertLessThanOrEqual(r.inputCount - r.firstNeededInput, 9)
        }
        streamed += r.finish(end: end)
        XCTAssertEqual(streamed.count, Int((Rational(241) * Rational(24) / Rational(120)).rounded))
        XCTAssertEqual(streamed.map(\.index), (0..<Int64(streamed.count)).map { $0 })
    }

    func testVariableFrameRateUsesTimestamps() {
        // Frames at 0, 20, 60, 80 ms (a gap), last lasting 20 ms, sampled at 50 fps (every 20 ms).
        let times = [0, 20, 60, 80].map { Rational(Int64($0), 1000) }
        let slots = Retimer.plan(times: times, end: Rational(100, 1000), sampleRate: Rational(50))
        XCTAssertEqual(slots.count, 5)
        XCTAssertEqual(slots.map(\.left), [0, 1, 1, 2, 3])
        XCTAssertEqual(slots[2].t, Rational(1, 2))     // 40 ms is halfway through the 20–60 ms gap
        XCTAssertEqual(slots.filter(\.isPassThrough).count, 4)
    }
}
