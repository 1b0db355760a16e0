/// The AVX-512 micro-kernels, compiled for x86-64-v4 in their own target and called only where the CPU has it
/// (`SIMDLevel` in Kernels). They fill a 4 × 48 tile of C held in twelve 16-lane registers: per depth step,
/// 3 loads of B and 4 broadcasts of A feed 12 FMAs, twice the lanes of the AVX2 4 × 24 kernel.
/// Every lane is the same FMA chain over k as in the AVX2 kernel, so both give the same bits.
public enum AVX512Tiles {
    /// Elements of B per packed row (GEMM's nr on this path).
    public static let width = 48

    /// tile[4][48] = Σ_k a[k][0..<4] ⊗ b[k][0..<48], from GEMM's packed A (4 per k) and packed B (48 per k).
    @inline(never)
    public static func gemm(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, tile: UnsafeMutablePointer<Float>) {
        var acc = Tile4x48()
        var pa = a, pb = b
        for _ in 0..<kc {
            acc.step(pa, load16(pb), load16(pb + 16), load16(pb + 32))
            pa += 4; pb += 48
        }
        acc.store(tile)
    }

    /// The direct convolution's tile: for each input channel and tap, 48 consecutive pixels of the padded input
    /// row from `origin` (offset by the tap), times the packed A's 4 weights.
    @inline(never)
    public static func direct(channels: Int, planeSize: Int, kernelHeight: Int, kernelWidth: Int, rowStep: Int,
                              tapStep: Int, a: UnsafePointer<Float>, origin: UnsafePointer<Float>,
                              tile: UnsafeMutablePointer<Float>) {
        var acc = Tile4x48()
        var pa = a
        for ci in 0..<channels {
            var rowPtr = origin + ci * planeSize
            for _ in 0..<kernelHeight {
                var pb = rowPtr
                for _ in 0..<kernelWidth {
                    acc.step(pa, load16(pb), load16(pb + 16), load16(pb + 32))
                    pa += 4; pb += tapStep
                }
                rowPtr += rowStep
            }
        }
        acc.store(tile)
    }

    /// `direct` with each column tap at its own offset from the row start (`tapOffsets`, kernelWidth of them):
    /// the stride-2 layout, where even and odd input columns lie in the two halves of a padded row. Kept apart
    /// from the fixed-step kernel above, which is faster on stride-1 layers (docs/ENGINE.md, "Kernel choices").
    @inline(never)
    public static func direct(channels: Int, planeSize: Int, kernelHeight: Int, kernelWidth: Int, rowStep: Int,
                              tapOffsets: UnsafePointer<Int>, a: UnsafePointer<Float>, origin: UnsafePointer<Float>,
                              tile: UnsafeMutablePointer<Float>) {
        var acc = Tile4x48()
        var pa = a
        for ci in 0..<channels {
            var rowPtr = origin + ci * planeSize
            for _ in 0..<kernelHeight {
                for kx in 0..<kernelWidth {
                    let pb = rowPtr + tapOffsets[kx]
                    acc.step(pa, load16(pb), load16(pb + 16), load16(pb + 32))
                    pa += 4
                }
                rowPtr += rowStep
            }
        }
        acc.store(tile)
    }
}

typealias Vec16 = SIMD16<Float>

@inline(__always) func load16(_ p: UnsafePointer<Float>) -> Vec16 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec16.self)
}

@inline(__always) func store16(_ v: Vec16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec16.self)
}

struct Tile4x48 {
    var c00 = Vec16(), c01 = Vec16(), c02 = Vec16()
    var c10 = Vec16(), c11 = Vec16(), c12 = Vec16()
    var c20 = Vec16(), c21 = Vec16(), c22 = Vec16()
    var c30 = Vec16(), c31 = Vec16(), c32 = Vec16()

    @inline(__always) mutating func step(_ a: UnsafePointer<Float>, _ b0: Vec16, _ b1: Vec16, _ b2: Vec16) {
        var s = Vec16(repeating: a[0])
        c00.addProduct(s, b0); c01.addProduct(s, b1); c02.addProduct(s, b2)
        s = Vec16(repeating: a[1])
        c10.addProduct(s, b0); c11.addProduct(s, b1); c12.addProduct(s, b2)
        s = Vec16(repeating: a[2])
        c20.addProduct(s, b0); c21.addProduct(s, b1); c22.addProduct(s, b2)
        s = Vec16(repeating: a[3])
        c30.addProduct(s, b0); c31.addProduct(s, b1); c32.addProduct(s, b2)
    }

    /// Row-major 4 × 48 into `tile`.
    @inline(__always) func store(_ tile: UnsafeMutablePointer<Float>) {
        store16(c00, tile); store16(c01, tile + 16); store16(c02, tile + 32)
        store16(c10, tile + 48); store16(c11, tile + 64); store16(c12, tile + 80)
        store16(c20, tile + 96); store16(c21, tile + 112); store16(c22, tile + 128)
        store16(c30, tile + 144); store16(c31, tile + 160); store16(c32, tile + 176)
    }
}

extension AVX512Tiles {
    /// The single-core FMA peak with 16-lane registers: 12 independent FMA chains, enough to hide the latency.
    @inline(never)
    public static func fmaGFLOPS(iterations: Int) -> Double {
        var a0 = Vec16(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
        var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
        let m = Vec16(repeating: 0.999_999)
        let start = ContinuousClock.now
        for _ in 0..<iterations {
            a0.addProduct(a0, m); a1.addProduct(a1, m); a2.addProduct(a2, m); a3.addProduct(a3, m)
            a4.addProduct(a4, m); a5.addProduct(a5, m); a6.addProduct(a6, m); a7.addProduct(a7, m)
            a8.addProduct(a8, m); a9.addProduct(a9, m); a10.addProduct(a10, m); a11.addProduct(a11, m)
        }
        let elapsed = ContinuousClock.now - start
        let sum = (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
        if sum == 0.123 { print(sum) }   // keeps the loop
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Double(iterations) * 12 * 16 * 2 / seconds / 1e9
    }
}
