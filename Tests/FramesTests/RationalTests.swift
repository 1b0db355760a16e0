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
