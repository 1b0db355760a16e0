import KernelsAVX512

/// Matrix multiply C[M×N] = A[M×K] · B[K×N] (+ bias per row, fused activation), BLIS style:
/// A is packed once in panels of `mr` rows; B is packed panel by panel (`nr` columns × `kc` rows) by a
/// `PanelSource`, which for a convolution gathers input pixels directly (implicit im2col, no K×N buffer).
/// The 4×24 micro-kernel keeps 12 AVX2 accumulators in registers: 3 loads of B and 4 broadcasts of A feed 12 FMAs;
/// on AVX-512 CPUs the 4×48 kernel of `KernelsAVX512` does the same with 16-lane registers (`SIMDLevel`).
public enum GEMM {
    public static let mr = 4
    /// Columns per packed B panel: 24 (AVX2) or 48 (AVX-512). Read once per call, not per element.
    public static var nr: Int { SIMDLevel.current.panelWidth }
    /// Rows of K per packed block: a 24 × 256 B panel (24 KiB) stays in L1 (48 KiB for the 48-wide panel).
    public static let kc = 256

    /// Elements of a packed A for M×K.
    public static func packedASize(m: Int, k: Int) -> Int { (m + mr - 1) / mr * mr * k }

    /// Packs row-major A (lda) into panels: [panel][k][row in panel], zero-padded to a multiple of `mr` rows.
    public static func packA(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, into dst: UnsafeMutablePointer<Float>) {
        let panels = (m + mr - 1) / mr
        for p in 0..<panels {
            let base = dst + p * mr * k
            for r in 0..<mr {
                let row = p * mr + r
                if row < m {
                    let src = a + row * lda
                    for kk in 0..<k { base[kk * mr + r] = src[kk] }
                } else {
                    for kk in 0..<k { base[kk * mr + r] = 0 }
                }
            }
        }
    }

    /// C = A·B (+ bias, activation), or C += A·B with `accumulateIntoC`. `packedA` from `packA`; C row-major with leading dimension `ldc`.
    /// Work is split over the pool by column panels; every element is summed in the same order on any thread count.
    public static func multiply<Source: PanelSource>(m: Int, n: Int, k: Int, packedA: UnsafePointer<Float>, b: Source,
                                                     c: UnsafeMutablePointer<Float>, ldc: Int,
                                                     bias: UnsafePointer<Float>? = nil, activation: Activation = .none,
                                                     accumulateIntoC: Bool = false, pool: ThreadPool = .shared) {
        let nr = GEMM.nr
        let panels = (n + nr - 1) / nr
        // About 8 chunks per thread, at least a few panels each so per-chunk overhead stays small.
        let perChunk = max(1, min(8, panels / max(1, pool.threads * 8)))
        let chunks = (panels + perChunk - 1) / perChunk
        let cAddress = Int(bitPattern: c)
        // K blocks outermost (BLIS order): the M × kc block of A stays in L2 while every column panel streams past.
        var k0 = 0
        while k0 < k {
            let kcur = min(kc, k - k0), first = k0 == 0, last = k0 + kcur == k
            let blockStart = k0
            pool.parallelFor(chunks) { chunk in
                let c = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
                // 64-byte aligned, so no vector load of the panel straddles a cache line; the AVX-512 kernel's
                // 4 × nr output tile follows the panel.
                let raw = UnsafeMutableRawPointer.allocate(byteCount: (kc + mr) * nr * 4, alignment: 64)
                defer { raw.deallocate() }
                do {
                    let panel = raw.bindMemory(to: Float.self, capacity: (kc + mr) * nr), tile = panel + kc * nr
                    for p in (chunk * perChunk)..<min(panels, (chunk + 1) * perChunk) {
                        let n0 = p * nr, cols = min(nr, n - n0)
                        b.pack(k0: blockStart, kc: kcur, n0: n0, nr: cols, into: panel)
                        multiplyPanel(m: m, kc: kcur, packedA: packedA + blockStart * mr, lda: k, panel: panel, tile: tile,
                                      c: c + n0, ldc: ldc, cols: cols, accumulate: !first || accumulateIntoC, bias: bias,
                                      activation: last ? activation : .none)
                    }
                }
            }
            k0 += kcur
        }
    }

    /// C[m × cols] (=, += or bias +) A[m × kc] · one packed B panel, on the calling thread. `packedA` points at
    /// the first row panel's column block (panels `mr · lda` apart); `tile` is scratch for 4 × `GEMM.nr` floats,
    /// 64-byte aligned.
    @inline(__always)
    static func multiplyPanel(m: Int, kc: Int, packedA: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                              tile: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, cols: Int,
                              accumulate: Bool, bias: UnsafePointer<Float>?, activation: Activation) {
        let avx512 = GEMM.nr == AVX512Tiles.width
        for mp in 0..<(m + mr - 1) / mr {
            let a = packedA + mp * mr * lda, cTile = c + mp * mr * ldc
            let rows = min(mr, m - mp * mr), rowBias = bias.map { $0 + mp * mr }, activation = activation.from(mp * mr)
            if avx512 {
                AVX512Tiles.gemm(kc: kc, a: a, b: panel, tile: tile)
                writeTile(tile, width: AVX512Tiles.width, c: cTile, ldc: ldc, rows: rows, cols: cols,
                          accumulate: accumulate, bias: rowBias, activation: activation)
            } else {
                microKernel(kc: kc, a: a, b: panel, c: cTile, ldc: ldc, rows: rows, cols: cols,
                            accumulate: accumulate, bias: rowBias, activation: activation)
            }
        }
    }

    @inline(__always)
    static func microKernel(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            ldc: Int, rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?,
                            activation: Activation) {
        var acc = Tile4x24()
        var pa = a, pb = b
        for _ in 0..<kc {
            acc.step(pa, load8(pb), load8(pb + 8), load8(pb + 16))
            pa += 4; pb += 24
        }
        // Write out through a tile so that edge tiles, accumulation, bias and activation share one path.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 96) { t in
            let tile = t.baseAddress!
            acc.store(tile)
            writeTile(tile, width: 24, c: c, ldc: ldc, rows: rows, cols: cols, accumulate: accumulate, bias: bias,
                      activation: activation)
        }
    }
}

/// The 4×24 block of C held in twelve AVX2 registers by the micro-kernels (GEMM and direct convolution).
struct Tile4x24 {
    var c00 = Vec8(), c01 = Vec8(), c02 = Vec8()
    var c10 = Vec8(), c11 = Vec8(), c12 = Vec8()
    var c20 = Vec8(), c21 = Vec8(), c22 = Vec8()
    var c30 = Vec8(), c31 = Vec8(), c32 = Vec8()

    /// One depth step: four A values (broadcast) times 24 B values, 12 FMAs.
    @inline(__always) mutating func step(_ a: UnsafePointer<Float>, _ b0: Vec8, _ b1: Vec8, _ b2: Vec8) {
        var s = Vec8(repeating: a[0])
        c00.addProduct(s, b0); c01.addProduct(s, b1); c02.addProduct(s, b2)
        s = Vec8(repeating: a[1])
        c10.addProduct(s, b0); c11.addProduct(s, b1); c12.addProduct(s, b2)
        s = Vec8(repeating: a[2])
        c20.addProduct(s, b0); c21.addProduct(s, b1); c22.addProduct(s, b2)
        s = Vec8(repeating: a[3])
        c30.addProduct(s, b0); c31.addProduct(s, b1); c32.addProduct(s, b2)
    }

    /// Row-major 4 × 24 into `tile`.
    @inline(__always) func store(_ tile: UnsafeMutablePointer<Float>) {
        store8(c00, tile); store8(c01, tile + 8); store8(c02, tile + 16)
        store8(c10, tile + 24); store8(c11, tile + 32); store8(c12, tile + 40)
        store8(c20, tile + 48); store8(c21, tile + 56); store8(c22, tile + 64)
        store8(c30, tile + 72); store8(c31, tile + 80); store8(c32, tile + 88)
    }
}

extension GEMM {
    /// Stores a 4 × `width` register tile (row-major in `tile`) into C: the first `rows` × `cols`, added to C or
    /// started from the bias, then the activation.
    @inline(__always)
    static func writeTile(_ tile: UnsafeMutablePointer<Float>, width: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                          rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, activation: Activation) {
        for r in 0..<rows {
            let src = tile + r * width, dst = c + r * ldc, activation = activation.channel(r)
            let start: Vec8 = accumulate ? Vec8() : Vec8(repeating: bias?[r] ?? 0)
            if cols == width {
                for j in stride(from: 0, to: width, by: 8) {
                    store8(activation.apply(load8(src + j) + (accumulate ? load8(dst + j) : start)), dst + j)
                }
            } else {
                for j in 0..<cols { dst[j] = activation.apply(src[j] + (accumulate ? dst[j] : start[0])) }
            }
        }
    }
}

/// Activations fused into kernel epilogues.
public enum Activation: Equatable, Sendable {
    case none, relu, leakyReLU(Float)
    /// PReLU: a leaky ReLU with its own slope for every output channel (row of C), read from the address
    /// `slopes` (valid for the call). Kernels resolve it per channel with `channel(_:)` before applying it.
    case prelu(slopes: Int)

    public static func prelu(_ slopes: UnsafePointer<Float>) -> Activation { .prelu(slopes: Int(bitPattern: slopes)) }

    /// The activation of channel `c` (PReLU becomes that channel's leaky ReLU).
    @inline(__always) public func channel(_ c: Int) -> Activation {
        if case .prelu(let slopes) = self { return .leakyReLU(UnsafePointer<Float>(bitPattern: slopes)![c]) }
        return self
    }
    /// PReLU's slope of channel `c` (nil-free: only for `.prelu`).
    func slope(ofChannel c: Int) -> Float {
        guard case .prelu(let slopes) = self else { preconditionFailure("slope(ofChannel:) is for PReLU") }
        return UnsafePointer<Float>(bitPattern: slopes)![c]
    }
    /// The same activation for the channels from `first` on (a block of rows).
    @inline(__always) func from(_ first: Int) -> Activation {
        if case .prelu(let slopes) = self { return .prelu(slopes: slopes + first * MemoryLayout<Float>.stride) }
        return self
    }

    @inline(__always) func apply(_ v: Vec8) -> Vec8 {
        switch self {
        case .none: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .leakyReLU(let s): return v.replacing(with: v * s, where: v .< 0)
        case .prelu: preconditionFailure("PReLU is resolved per channel before it is applied")
        }
    }
    @inline(__always) public func apply(_ v: Float) -> Float {
        switch self {
        case .none: return v
        case .relu: return max(v, 0)
        case .leakyReLU(let s): return v < 0 ? v * s : v
        case .prelu: preconditionFailure("PReLU is resolved per channel before it is applied")
        }
    }
}

/// Supplies B to the GEMM a panel at a time.
public protocol PanelSource {
    /// Writes B[k0..<k0+kc][n0..<n0+nr] into `dst` as kc rows of `GEMM.nr` floats (columns past nr set to 0).
    func pack(k0: Int, kc: Int, n0: Int, nr: Int, into dst: UnsafeMutablePointer<Float>)
}

/// A plain row-major matrix as B.
public struct MatrixPanels: PanelSource {
    public let base: UnsafePointer<Float>
    public let ldb: Int
    public init(_ base: UnsafePointer<Float>, ldb: Int) { self.base = base; self.ldb = ldb }

    @inline(__always)
    public func pack(k0: Int, kc: Int, n0: Int, nr: Int, into dst: UnsafeMutablePointer<Float>) {
        let width = GEMM.nr
        for kk in 0..<kc {
            let src = base + (k0 + kk) * ldb + n0, d = dst + kk * width
            if nr == width {
                for j in stride(from: 0, to: width, by: 8) { store8(load8(src + j), d + j) }
            } else {
                for j in 0..<nr { d[j] = src[j] }
                for j in nr..<width { d[j] = 0 }
            }
        }
    }
}
