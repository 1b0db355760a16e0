import XCTest
import Frames
@testable import Models

final class EnsembleTests: XCTestCase {
    static func image(_ seed: Int, width: Int = 7, height: Int = 4) -> Image {
        Image(width: width, height: height, data: (0..<(3 * width * height)).map { Float(($0 * 37 + seed * 101) % 251) / 250 })
    }

    /// Returns its left frame and records what it was given, so each pass's window and times can be checked.
    final class LeftFrame: FrameInterpolator {
        let info = ModelInfo(name: "left", summary: "the left frame", arbitraryT: true)
        var calls: [(FrameWindow, [Float])] = []
        func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
            calls.append((window, times))
            return times.map { _ in window.left }
        }
    }

    func testMirroringReversesEveryRowAndUndoesItself() {
        let a = Self.image(1)
        let m = a.mirrored()
        for c in 0..<3 { for y in 0..<a.height { for x in 0..<a.width { XCTAssertEqual(m[c, y, x], a[c, y, a.width - 1 - x]) } } }
        XCTAssertEqual(m.mirrored(), a)
    }

    func testFlippingReversesEveryColumnAndUndoesItself() {
        let a = Self.image(1)
        let f = a.flipped()
        for c in 0..<3 { for y in 0..<a.height { for x in 0..<a.width { XCTAssertEqual(f[c, y, x], a[c, a.height - 1 - y, x]) } } }
        XCTAssertEqual(f.flipped(), a)
        XCTAssertEqual(f.mirrored(), a.rotatedClockwise(quarterTurns: 2))
    }

    /// Eight passes add the upside-down image of the four: each pass's window is flipped (and mirrored, for the half
    /// turns) and its frame is turned back before the sum.
    func testEightPassesAddTheUpsideDownGaps() throws {
        let (a, b, before) = (Self.image(1), Self.image(2), Self.image(3))
        let model = LeftFrame()
        let ensemble = try XCTUnwrap(SymmetryEnsemble(model, count: 8))
        XCTAssertEqual(Set(ensemble.passes).count, 8)
        let out = try ensemble.interpolate(FrameWindow(before: [before], left: a, right: b), at: [0.5])
        let lefts = model.calls.map(\.0.left)
        XCTAssertEqual(lefts[4], a.flipped()); XCTAssertEqual(model.calls[4].0.before, [before.flipped()])
        XCTAssertEqual(lefts[5], a.rotatedClockwise(quarterTurns: 2))
        XCTAssertEqual(lefts[6], b.flipped()); XCTAssertEqual(model.calls[6].0.after, [before.flipped()])
        XCTAssertEqual(lefts[7], b.rotatedClockwise(quarterTurns: 2))
        // Four passes return a, four return b once mapped back (a frame left upside down would not average to this): the
        // mean is (a + b) / 2 (tolerance 1e-6, seven adds and a scale).
        for j in a.data.indices { XCTAssertEqual(out[0].data[j], (a.data[j] + b.data[j]) / 2, accuracy: 1e-6) }
    }

    func testPassesSeeMirroredAndSwappedGapsAndTheirFramesAreMappedBack() throws {
        let (a, b, before, after) = (Self.image(1), Self.image(2), Self.image(3), Self.image(4))
        let window = FrameWindow(before: [before], left: a, right: b, after: [after])
        let model = LeftFrame()
        let out = try SymmetryEnsemble(model, passes: SymmetryEnsemble.passes(count: 4)!).interpolate(window, at: [0.25, 0.5])
        XCTAssertEqual(model.calls.count, 4)
        let (mirrored, reversed, both) = (model.calls[1], model.calls[2], model.calls[3])
        XCTAssertEqual(model.calls[0].0.left, a); XCTAssertEqual(model.calls[0].1, [0.25, 0.5])
        XCTAssertEqual(mirrored.0.left, a.mirrored()); XCTAssertEqual(mirrored.0.after, [after.mirrored()]); XCTAssertEqual(mirrored.1, [0.25, 0.5])
        // Swapping the frames swaps the context too and turns t into 1 − t.
        XCTAssertEqual(reversed.0.left, b); XCTAssertEqual(reversed.0.right, a)
        XCTAssertEqual(reversed.0.before, [after]); XCTAssertEqual(reversed.0.after, [before]); XCTAssertEqual(reversed.1, [0.75, 0.5])
        XCTAssertEqual(both.0.left, b.mirrored()); XCTAssertEqual(both.0.right, a.mirrored())
        // The mean of a, a (mirrored back), b, b: (a + b) / 2 up to float rounding (tolerance 1e-6, three adds and a scale).
        for k in 0..<2 {
            for j in a.data.indices { XCTAssertEqual(out[k].data[j], (a.data[j] + b.data[j]) / 2, accuracy: 1e-6) }
        }
        // Two passes: the gap and the swapped gap (mean of a and b); the 2-pass mirror ensemble gives a back exactly.
        let two = try SymmetryEnsemble(LeftFrame(), passes: SymmetryEnsemble.passes(count: 2)!).interpolate(window, at: [0.5])
        for j in a.data.indices { XCTAssertEqual(two[0].data[j], (a.data[j] + b.data[j]) / 2, accuracy: 1e-6) }
        let mirror = try SymmetryEnsemble(LeftFrame(), passes: [.identity, .mirrored]).interpolate(window, at: [0.5])
        XCTAssertEqual(mirror[0].data, a.data)
    }

    func testASymmetricMethodIsUnchanged() throws {
        // Blending is symmetric under both mirroring and swapping, so its ensemble equals it (tolerance 1e-6: the
        // swapped pass weighs the frames by 1 − (1 − t) instead of t).
        let window = FrameWindow(left: Self.image(5), right: Self.image(6))
        let single = try BlendInterpolator().interpolate(window, at: [0.3])[0]
        let ensemble = SymmetryEnsemble(BlendInterpolator(), passes: SymmetryEnsemble.passes(count: 4)!)
        XCTAssertEqual(ensemble.info.name, "blend")
        XCTAssertEqual(ensemble.info.arbitraryT, true)
        for (x, y) in zip(try ensemble.interpolate(window, at: [0.3])[0].data, single.data) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        XCTAssertNil(SymmetryEnsemble.passes(count: 3))
    }

    /// A model that already averages both frame orders gets only mirrored passes (the swapped ones would repeat it).
    func testASwapSymmetricModelIsOnlyMirrored() throws {
        final class Symmetric: FrameInterpolator {
            let info = ModelInfo(name: "s", summary: "s", arbitraryT: true, swapSymmetric: true)
            func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] { times.map { _ in window.left } }
        }
        XCTAssertEqual(SymmetryEnsemble(Symmetric(), count: 2)?.passes, [.identity, .mirrored])
        XCTAssertEqual(SymmetryEnsemble(Symmetric(), count: 4)?.passes, [.identity, .mirrored])
        XCTAssertEqual(SymmetryEnsemble(Symmetric(), count: 8)?.passes, [.identity, .mirrored, .flipped, .rotated])
        XCTAssertEqual(SymmetryEnsemble(LeftFrame(), count: 4)?.passes, [.identity, .mirrored, .reversed, .mirroredReversed])
        XCTAssertEqual(SymmetryEnsemble(LeftFrame(), count: 8)?.passes, SymmetryEnsemble.Pass.allCases)
        XCTAssertNil(SymmetryEnsemble(LeftFrame(), count: 3))
    }
}
