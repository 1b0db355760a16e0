/// A frame rate parsed from the command line: `60000/1001`, `59.94`, `60`.
///
/// The rounded NTSC rates (23.976, 29.97, 47.952, 59.94, 119.88 and their two-decimal forms) mean the exact
/// x000/1001 rationals, as every editor and player takes them; any other decimal is taken exactly.
public struct FrameRate: Hashable, Sendable, CustomStringConvertible {
    public let value: Rational

    public init(_ value: Rational) throws {
        guard value.num > 0 else { throw FrameRateError.notPositive(value.description) }
        self.value = value
    }

    public var description: String { value.description }

    /// Rates written with rounded decimals that mean an NTSC rational.
    static let ntsc: [String: Rational] = [
        "23.976": Rational(24000, 1001), "23.98": Rational(24000, 1001),
        "29.97": Rational(30000, 1001),
        "47.952": Rational(48000, 1001), "47.95": Rational(48000, 1001),
        "59.94": Rational(60000, 1001),
        "119.88": Rational(120000, 1001),
        "239.76": Rational(240000, 1001),
    ]

    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let r = FrameRate.ntsc[s] { try self.init(r); return }
        try self.init(try Rational(parsingDecimalOrFraction: s))
    }
}

public enum FrameRateError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case notPositive(String)
    case tooLarge(String, maximum: Int)
    public var description: String {
        switch self {
        case .tooLarge(let s, let m): return "invalid value '\(s)': at most \(m)"
        case .invalid(let s): return "invalid rate '\(s)': expected a number such as 60, 59.94 or 60000/1001"
        case .notPositive(let s): return "invalid rate '\(s)': it must be greater than zero"
        }
    }
}

extension Rational {
    /// Parses `60000/1001`, `2.5`, `60`, exactly (decimals become num/10^k).
    public init(parsingDecimalOrFraction s: String) throws {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let n = Int64(parts[0]), let d = Int64(parts[1]), d != 0 else { throw FrameRateError.invalid(s) }
            self.init(n, d)
            return
        }
        guard parts.count == 1, !s.isEmpty else { throw FrameRateError.invalid(s) }
        let pieces = s.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { throw FrameRateError.invalid(s) }
        let whole = pieces[0], frac = pieces.count == 2 ? pieces[1] : ""
        guard !(whole.isEmpty && frac.isEmpty), whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              frac.allSatisfy({ $0.isASCII && $0.isNumber }), frac.count <= 9,
              let w = Int64(whole.isEmpty ? "0" : String(whole)), w < 1_000_000_000 else {
            throw FrameRateError.invalid(s)
        }
        var scale: Int64 = 1
        for _ in 0..<frac.count { scale *= 10 }
        let f = frac.isEmpty ? 0 : Int64(frac)!
        self.init(w * scale + f, scale)
    }
}

import Foundation

/// Timestamps as a container stored them, mapped back onto the stream's nominal frame grid. Matroska, WebM, FLV and
/// many variable-rate files keep times in whole milliseconds, so a 23.976 fps frame at 41.708 ms is stored as 42 ms;
/// taken literally, no input frame lies on a 2× output time, and the originals are re-synthesised instead of passed
/// through. A time within one tick of the container's time base of the grid (first frame + k / rate) is the grid
/// time; any other time (variable-rate input) is kept. Where the time base holds the frame duration exactly (MP4's
/// 1/24000 for 24000/1001 fps), nothing is rounded and nothing is changed.
public struct TimestampGrid: Sendable {
    public let rate: Rational
    public let tick: Rational
    public private(set) var origin: Rational?

    /// `rate`: the stream's nominal frame rate; `tick`: its time base. Nil when the time base represents the frame
    /// duration exactly (no rounding to undo) or either is not positive.
    public init?(rate: Rational, tick: Rational) {
        guard rate.num > 0, rate.den > 0, tick.num > 0, tick.den > 0 else { return nil }
        let ticksPerFrame = rate.reciprocal / tick
        guard ticksPerFrame.den != 1 else { return nil }
        self.rate = rate; self.tick = tick
    }

    /// The grid time for `time` when it lies within one tick of the grid (the first time seen is the origin).
    public mutating func snap(_ time: Rational) -> Rational {
        guard let origin else { origin = time; return time }
        let k = ((time - origin) * rate).rounded
        let grid = origin + Rational(k) / rate
        let error = time < grid ? grid - time : time - grid
        return error <= tick ? grid : time
    }

    /// A frame duration within one tick of the nominal one is the nominal one.
    public func snapDuration(_ duration: Rational) -> Rational {
        let nominal = rate.reciprocal
        let error = duration < nominal ? nominal - duration : duration - nominal
        return error <= tick ? nominal : duration
    }
}
