import CCPUFeatures
import Foundation

/// Which micro-kernels the GEMM and the direct convolution use: AVX2 (4 × 24 tiles, any x86-64-v3 CPU) or
/// AVX-512 (4 × 48 tiles, twice the lanes per FMA) where the CPU has it. Both sum every element in the same
/// order, so the choice changes speed, never the bytes.
public enum SIMDLevel: String, Sendable {
    case avx2, avx512

    public static let hostSupportsAVX512 = tween_cpu_supports_avx512() != 0

    /// The best the CPU has; TWEEN_SIMD=avx2 forces the AVX2 kernels (for comparisons).
    nonisolated(unsafe) public static var current: SIMDLevel =
        hostSupportsAVX512 && ProcessInfo.processInfo.environment["TWEEN_SIMD"] != "avx2" ? .avx512 : .avx2

    /// Columns of B per packed panel (GEMM's nr) for this level.
    public var panelWidth: Int { self == .avx512 ? 48 : 24 }
}
