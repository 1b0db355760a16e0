import Foundation

/// Softmax over the channels of NCHW at every pixel, and its gradient, vectorised over pixels: AdaConv normalises
/// thousands of kernel taps per pixel, so the exponentials dominate unless eight are taken at once.
///
/// Every pixel is computed the same way wherever it sits (a full block of sixteen, or a remainder handled lane by
/// lane with the same vector exponential), so a frame cut into row tiles gives the same bytes as the whole frame.
extension Elementwise {
    /// eˣ for eight lanes: n = round(x·log₂e), r = x − n·ln 2 (in two parts, so r is exact to float precision), eʳ by
    /// a degree-6 minimax polynomial on |r| ≤ ½ln 2, scaled by 2ⁿ through the exponent bits. Within 2 ulp of `exp`
    /// for x in [−87, 88]; 0 below −87.3 (where eˣ leaves the normal floats) and e^88.3 above (softmax only feeds it
    /// x ≤ 0).
    @inline(__always) static func exp8(_ input: Vec8) -> Vec8 {
        let x = pointwiseMin(pointwiseMax(input, Vec8(repeating: -87.3)), Vec8(repeating: 88.3))
        // Adding 1.5·2²³ rounds x·log₂e to the nearest integer n (ties to even) and leaves n in the low mantissa bits.
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        var r = x.addingProduct(n, Vec8(repeating: -0.693_359_375))   // x − n·ln2_hi
        r = r.addingProduct(n, Vec8(repeating: 2.121_944_4e-4))        // − n·ln2_lo (ln2_lo is negative)
        var p = Vec8(repeating: 1.987_569_15e-4)
        p = Vec8(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = Vec8(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = Vec8(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = Vec8(repeating: 0.166_666_655).addingProduct(p, r)
        p = Vec8(repeating: 0.500_000_01).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, r * r)
        let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return (y * unsafeBitCast(bits, to: Vec8.self)).replacing(with: 0, where: input .< -87.3)
    }

    /// `exp8` for one value (the lane the remainder pixels use, so they round exactly as the blocks do).
    @inline(__always) static func exp1(_ x: Float) -> Float { exp8(Vec8(repeating: x))[0] }

    static let softmaxBlock = 64

    /// out = softmax over `channels` at each of `plane` pixels, per batch item; `out` may be `x` (in place).
    public static func softmaxChannels(_ x: UnsafePointer<Float>, batch: Int, channels c: Int, plane: Int,
                                       _ out: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (xa, oa) = (Int(bitPattern: x), Int(bitPattern: out))
        let blocks = (plane + softmaxBlock - 1) / softmaxBlock
        let perTask = max(1, 4096 / max(1, c))
        let tasks = (blocks + perTask - 1) / perTask
        let run = { (task: Int) in
            let x = UnsafePointer<Float>(bitPattern: xa)!, out = UnsafeMutablePointer<Float>(bitPattern: oa)!
            for n in 0..<batch {
                let base = n * c * plane
                for block in (task * perTask)..<min(blocks, (task + 1) * perTask) {
                    let i = block * softmaxBlock
                    if i + softmaxBlock <= plane {
                        softmaxBlock16(x + base + i, out + base + i, channels: c, stride: plane)
                    } else {
                        for p in i..<plane { softmaxPixel(x + base + p, out + base + p, channels: c, stride: plane) }
                    }
                }
            }
        }
        if pool.threads == 1 || tasks == 1 { for t in 0..<tasks { run(t) } } else { pool.parallelFor(tasks, run) }
    }

    /// One block of `softmaxBlock` pixels: each pass streams every channel's run of the block's pixels (64 floats,
    /// four cache lines), which keeps the passes in cache and the hardware prefetcher on one row at a time.
    @inline(__always) static func softmaxBlock16(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, channels c: Int, stride s: Int) {
        let lanes = softmaxBlock / 8
        withUnsafeTemporaryAllocation(of: Vec8.self, capacity: 2 * lanes) { t in
            let m = t.baseAddress!, sum = m + lanes
            for l in 0..<lanes { m[l] = Vec8(repeating: -.infinity); sum[l] = Vec8() }
            for ch in 0..<c { for l in 0..<lanes { m[l] = pointwiseMax(m[l], load8(x + ch * s + 8 * l)) } }
            for ch in 0..<c {
                for l in 0..<lanes {
                    let e = exp8(load8(x + ch * s + 8 * l) - m[l])
                    store8(e, out + ch * s + 8 * l); sum[l] += e
                }
            }
            for l in 0..<lanes { sum[l] = 1 / sum[l] }
            for ch in 0..<c { for l in 0..<lanes { store8(load8(out + ch * s + 8 * l) * sum[l], out + ch * s + 8 * l) } }
        }
    }

    @inline(__always) static func softmaxPixel(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, channels c: Int, stride s: Int) {
        var m = -Float.infinity
        for ch in 0..<c { m = max(m, x[ch * s]) }
        var sum: Float = 0
        for ch in 0..<c { let e = exp1(x[ch * s] - m); out[ch * s] = e; sum += e }
        let inv = 1 / sum
        for ch in 0..<c { out[ch * s] *= inv }
    }

    /// The gradient of `softmaxChannels` from its output y and the output gradient g: dx = y ⊙ (g − Σ_c g·y).
    public static func softmaxChannelsBackward(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, batch: Int, channels c: Int,
                                               plane: Int, _ dx: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (ya, ga, da) = (Int(bitPattern: y), Int(bitPattern: g), Int(bitPattern: dx))
        let blocks = (plane + softmaxBlock - 1) / softmaxBlock
        let perTask = max(1, 4096 / max(1, c)), lanes = softmaxBlock / 8
        let tasks = (blocks + perTask - 1) / perTask
        let run = { (task: Int) in
            let y = UnsafePointer<Float>(bitPattern: ya)!, g = UnsafePointer<Float>(bitPattern: ga)!
            let dx = UnsafeMutablePointer<Float>(bitPattern: da)!
            for n in 0..<batch {
                let base = n * c * plane
                for block in (task * perTask)..<min(blocks, (task + 1) * perTask) {
                    let i = block * softmaxBlock
                    if i + softmaxBlock <= plane {
                        let (yb, gb, db) = (y + base + i, g + base + i, dx + base + i)
                        withUnsafeTemporaryAllocation(of: Vec8.self, capacity: lanes) { t in
                            let d = t.baseAddress!
                            for l in 0..<lanes { d[l] = Vec8() }
                            for ch in 0..<c { for l in 0..<lanes {
                                d[l] = d[l].addingProduct(load8(gb + ch * plane + 8 * l), load8(yb + ch * plane + 8 * l))
                            } }
                            for ch in 0..<c { for l in 0..<lanes {
                                let o = ch * plane + 8 * l
                                store8(load8(yb + o) * (load8(gb + o) - d[l]), db + o)
                            } }
                        }
                    } else {
                        for p in i..<plane {
                            let (yb, gb, db) = (y + base + p, g + base + p, dx + base + p)
                            var dot: Float = 0
                            for ch in 0..<c { dot = dot.addingProduct(gb[ch * plane], yb[ch * plane]) }
                            for ch in 0..<c { db[ch * plane] = yb[ch * plane] * (gb[ch * plane] - dot) }
                        }
                    }
                }
            }
        }
        if pool.threads == 1 || tasks == 1 { for t in 0..<tasks { run(t) } } else { pool.parallelFor(tasks, run) }
    }
}
