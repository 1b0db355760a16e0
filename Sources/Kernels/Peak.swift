import KernelsAVX512

/// The single-core FMA peak: 12 independent 8-lane FMA chains, enough to hide the FMA latency (16-lane chains
/// where the AVX-512 kernels are in use).
public enum Peak {
    /// Returns GFLOP/s measured over `iterations` × 12 vector FMAs at the current `SIMDLevel`.
    public static func fmaGFLOPS(iterations: Int = 50_000_000) -> Double {
        if SIMDLevel.current == .avx512 { return AVX512Tiles.fmaGFLOPS(iterations: iterations) }
        var a0 = Vec8(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
        var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
        let m = Vec8(repeating: 0.999_999), c = Vec8(repeating: 1e-7)
        let start = ContinuousClock.now
        for _ in 0..<iterations {
            a0.addProduct(a0, m); a1.addProduct(a1, m); a2.addProduct(a2, m); a3.addProduct(a3, m)
            a4.addProduct(a4, m); a5.addProduct(a5, m); a6.addProduct(a6, m); a7.addProduct(a7, m)
            a8.addProduct(a8, m); a9.addProduct(a9, m); a10.addProduct(a10, m); a11.addProduct(a11, m)
        }
        let elapsed = ContinuousClock.now - start
        let sum = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + c).sum()
        // Keep the result alive so the loop is not removed.
        if sum == 0.123 { print(sum) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(iterations) * 12 * 8 * 2 / seconds / 1e9
    }
}
