/// An exact rational number, always stored reduced with a positive denominator.
///
/// Timestamps and frame rates are kept in this form so that a two-hour conversion accumulates no rounding error;
/// intermediate products use 128-bit arithmetic so that realistic time bases never overflow.
public struct Rational: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let num: Int64
    public let den: Int64

    public init(_ num: Int64, _ den: Int64 = 1) {
        precondition(den != 0, "Rational with zero denominator")
        let g = Rational.gcd(num.magnitude, den.magnitude)
        let sign: Int64 = den < 0 ? -1 : 1
        self.num = sign * num / Int64(g)
        self.den = sign * den / Int64(g)
    }

    private init(reduced n: Int128, _ d: Int128) {
        var n = n, d = d
        if d < 0 { n = -n; d = -d }
        let g = Rational.gcd128(n.magnitude, d.magnitude)
        let rn = n / Int128(g), rd = d / Int128(g)
        precondition(rn >= Int128(Int64.min) && rn <= Int128(Int64.max) && rd <= Int128(Int64.max),
                     "Rational overflow")
        num = Int64(rn); den = Int64(rd)
    }

    public static let zero = Rational(0)
    public static let one = Rational(1)

    public var doubleValue: Double { Double(num) / Double(den) }
    public var description: String { den == 1 ? "\(num)" : "\(num)/\(den)" }
    public var reciprocal: Rational { Rational(den, num) }

    /// Largest integer ≤ self.
    public var floor: Int64 {
        num >= 0 ? num / den : -((-num + den - 1) / den)
    }
    /// Nearest integer, halves rounded up (as ffmpeg's `fps` filter rounds the output frame count).
    public var rounded: Int64 { (self + Rational(1, 2)).floor }

    public static func + (a: Rational, b: Rational) -> Rational {
        Rational(reduced: Int128(a.num) * Int128(b.den) + Int128(b.num) * Int128(a.den), Int128(a.den) * Int128(b.den))
    }
    public static func - (a: Rational, b: Rational) -> Rational {
        Rational(reduced: Int128(a.num) * Int128(b.den) - Int128(b.num) * Int128(a.den), Int128(a.den) * Int128(b.den))
    }
    public static func * (a: Rational, b: Rational) -> Rational {
        Rational(reduced: Int128(a.num) * Int128(b.num), Int128(a.den) * Int128(b.den))
    }
    public static func / (a: Rational, b: Rational) -> Rational {
        precondition(b.num != 0, "division by zero")
        return Rational(reduced: Int128(a.num) * Int128(b.den), Int128(a.den) * Int128(b.num))
    }
    public static func * (a: Rational, b: Int64) -> Rational { a * Rational(b) }
    public static func < (a: Rational, b: Rational) -> Bool {
        Int128(a.num) * Int128(b.den) < Int128(b.num) * Int128(a.den)
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a == 0 ? 1 : a
    }
    static func gcd128(_ a: UInt128, _ b: UInt128) -> UInt128 {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a == 0 ? 1 : a
    }
}
