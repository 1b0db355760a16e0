import XCTest
@testable import Frames

final class RationalTests: XCTestCase {
    func testArithmeticIsExactAndReduced() {
        let a = Rational(60000, 1001), b = Rational(24000, 1001)
        XCTAssertEqual(a / b, Rational(5, 2))
        XCTAssertEqual(Rational(6, -4), Rational(-3, 2))
        XCTAssertEqual(Rational(1, 3) + Rational(1, 6), Rational(1, 2))
        XCTAssertEqual(Rational(7, 2).floor, 3)
        XCTAssertEqual(Rational(-7, 2).floor, -4)
        XCTAssertEqual(Rational(5, 2).rounded, 3)   // halves round up
        XCTAssertEqual(Rational(7, 3).rounded, 2)
        XCTAssertTrue(Rational(1001, 30000) < Rational(1, 29))
    }

    func testParsesRatesExactly() throws {
        XCTAssertEqual(try FrameRate(parsing: "60000/1001").value, Rational(60000, 1001))
        XCTAssertEqual(try FrameRate(parsing: "60").value, Rational(60))
        XCTAssertEqual(try FrameRate(parsing: "12.5").value, Rational(25, 2))
        // The rounded NTSC rates mean the x000/1001 rationals.
        XCTAssertEqual(try FrameRate(parsing: "29.97").value, Rational(30000, 1001))
        XCTAssertEqual(try FrameRate(parsing: "59.94").value, Rational(60000, 1001))
        XCTAssertEqual(try FrameRate(parsing: "23.976").value, Rational(24000, 1001))
        XCTAssertEqual(try FrameRate(parsing: "119.88").value, Rational(120000, 1001))
        XCTAssertEqual(try Rational(parsingDecimalOrFraction: "2.5"), Rational(5, 2))
    }

    func testRejectsInvalidRates() {
        for bad in ["", "abc", "60fps", "1/0", "-5", "0", "0/1", "1.2.3", "/", "60/", "1e3"] {
            XCTAssertThrowsError(try FrameRate(parsing: bad), bad)
        }
        XCTAssertEqual((try? FrameRate(parsing: "x")) == nil, true)
        XCTAssertEqual("\(FrameRateError.invalid("x"))", "invalid rate 'x': expected a number such as 60, 59.94 or 60000/1001")
    }
}

final class TimestampGridTests: XCTestCase {
    /// Milliseconds as Matroska stores a 23.976 fps stream: every time within a tick of k·1001/24000 s goes back to
    /// it, durations of 41 and 42 ms to 1001/24000, and a time off the grid (variable rate) stays.
    func testMillisecondTimestampsGoBackOntoTheFrameGrid() {
        var grid = TimestampGrid(rate: Rational(24000, 1001), tick: Rational(1, 1000))!
        for k in 0..<200 {
            let exact = Rational(Int64(k) * 1001, 24000)
            let stored = Rational((exact * 1000).rounded, 1000)
            XCTAssertEqual(grid.snap(stored), exact, "frame \(k)")
        }
        XCTAssertEqual(grid.snap(Rational(20, 1000)), Rational(20, 1000), "halfway between frames: variable rate, kept")
        XCTAssertEqual(grid.snapDuration(Rational(42, 1000)), Rational(1001, 24000))
        XCTAssertEqual(grid.snapDuration(Rational(41, 1000)), Rational(1001, 24000))
        XCTAssertEqual(grid.snapDuration(Rational(80, 1000)), Rational(80, 1000))
        // From a later origin (a cut that starts mid-stream) the grid starts at the first time seen.
        var later = TimestampGrid(rate: Rational(30), tick: Rational(1, 1000))!
        XCTAssertEqual(later.snap(Rational(1000, 1000)), Rational(1))
        XCTAssertEqual(later.snap(Rational(1033, 1000)), Rational(31, 30))
    }

    /// Where the time base holds the frame duration exactly there is nothing to undo.
    func testExactTimeBasesNeedNoGrid() {
        XCTAssertNil(TimestampGrid(rate: Rational(24000, 1001), tick: Rational(1, 24000)))
        XCTAssertNil(TimestampGrid(rate: Rational(30000, 1001), tick: Rational(1, 90000)))
        XCTAssertNil(TimestampGrid(rate: Rational(25), tick: Rational(1, 1000)))
        XCTAssertNotNil(TimestampGrid(rate: Rational(30), tick: Rational(1, 1000)))
    }
}
