/// The one SIMD vocabulary of every kernel: 8 float lanes (one AVX2 register), unaligned loads and stores,
/// broadcast, FMA. Kernels are written against these and keep a scalar tail.
public typealias Vec8 = SIMD8<Float>

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> Vec8 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec8.self)
}

@inline(__always) func store8(_ v: Vec8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self)
}
