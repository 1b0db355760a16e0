import Foundation

/// The census (ternary) distance of UnFlow and RIFE in one pass, for a training loss: for every pixel p of two
/// one-channel images A and B and every other position q of the patch around it (replicate padding),
/// tA = dA / √(dA² + 0.81) with dA = A[q] − A[p] (likewise tB), D = (tA − tB)², and the sum of D / (D + 0.1).
/// Written as separate tensor operations it takes about 300 passes over memory and 48 full-size channels per image;
/// here each image is read from a padded copy that stays in cache. Images are split over the pool, each summed in one
/// fixed order, so any thread count gives the same bytes.
public enum Census {
    static let epsilon: Float = 0.81, soft: Float = 0.1

    /// A padded copy of one image plane (replicate), `r` on every side.
    static func padded(_ x: UnsafePointer<Float>, h: Int, w: Int, r: Int) -> UnsafeMutablePointer<Float> {
        let pw = w + 2 * r, out = UnsafeMutablePointer<Float>.allocate(capacity: (h + 2 * r) * pw)
        for y in 0..<(h + 2 * r) {
            let row = x + min(max(y - r, 0), h - 1) * w, o = out + y * pw
            for i in 0..<r { o[i] = row[0]; o[r + w + i] = row[w - 1] }
            (o + r).update(from: row, count: w)
        }
        return out
    }

    @inline(__always) static func transform(_ d: Vec8) -> Vec8 { d / (d * d + Vec8(repeating: epsilon)).squareRoot() }
    @inline(__always) static func transform(_ d: Float) -> Float { d / (d * d + epsilon).squareRoot() }

    /// The patch's offsets other than the centre, row by row.
    static func offsets(_ patch: Int) -> [(Int, Int)] {
        let r = patch / 2
        return (0..<patch).flatMap { dy in (0..<patch).compactMap { dx in dy == r && dx == r ? nil : (dy - r, dx - r) } }
    }

    /// Σ D / (D + 0.1) over `batch` image pairs [batch][h][w].
    public static func distanceSum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, batch: Int, height h: Int, width w: Int,
                                   patch: Int = 7, pool: ThreadPool = .shared) -> Double {
        let r = patch / 2, pw = w + 2 * r, offsets = offsets(patch), vectorEnd = w / 8 * 8
        var sums = [Double](repeating: 0, count: batch)
        let (aA, bA) = (Int(bitPattern: a), Int(bitPattern: b))
        sums.withUnsafeMutableBufferPointer { s in
            let sA = Int(bitPattern: s.baseAddress!)
            pool.parallelFor(batch) { n in
                let a = UnsafePointer<Float>(bitPattern: aA)! + n * h * w, b = UnsafePointer<Float>(bitPattern: bA)! + n * h * w
                let pa = padded(a, h: h, w: w, r: r), pb = padded(b, h: h, w: w, r: r)
                defer { pa.deallocate(); pb.deallocate() }
                var total = 0.0
                let soft8 = Vec8(repeating: soft)
                for y in 0..<h {
                    var rowSum = Vec8(repeating: 0), tail: Float = 0
                    let ca = pa + (y + r) * pw + r, cb = pb + (y + r) * pw + r
                    for (dy, dx) in offsets {
                        let qa = ca + dy * pw + dx, qb = cb + dy * pw + dx
                        var x = 0
                        while x < vectorEnd {
                            let ta = transform(load8(qa + x) - load8(ca + x)), tb = transform(load8(qb + x) - load8(cb + x))
                            let d = (ta - tb) * (ta - tb)
                            rowSum += d / (d + soft8)
                            x += 8
                        }
                        while x < w {
                            let ta = transform(qa[x] - ca[x]), tb = transform(qb[x] - cb[x]), d = (ta - tb) * (ta - tb)
                            tail += d / (d + soft)
                            x += 1
                        }
                    }
                    total += Double(rowSum.sum()) + Double(tail)
                }
                UnsafeMutablePointer<Double>(bitPattern: sA)![n] = total
            }
        }
        return sums.reduce(0, +)
    }

    /// The gradients of `scale` · Σ D / (D + 0.1) with respect to A and B (overwritten; either may be nil).
    public static func distanceBackward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, batch: Int, height h: Int, width w: Int,
                                        patch: Int = 7, scale: Float, gradA: UnsafeMutablePointer<Float>?,
                                        gradB: UnsafeMutablePointer<Float>?, pool: ThreadPool = .shared) {
        let r = patch / 2, pw = w + 2 * r, ph = h + 2 * r, offsets = offsets(patch), vectorEnd = w / 8 * 8
        let (aA, bA) = (Int(bitPattern: a), Int(bitPattern: b))
        let (gaA, gbA) = (gradA.map { Int(bitPattern: $0) }, gradB.map { Int(bitPattern: $0) })
        pool.parallelFor(batch) { n in
            let a = UnsafePointer<Float>(bitPattern: aA)! + n * h * w, b = UnsafePointer<Float>(bitPattern: bA)! + n * h * w
            let pa = padded(a, h: h, w: w, r: r), pb = padded(b, h: h, w: w, r: r)
            // Gradients with respect to the padded planes, folded back onto the edges at the end.
            let ga = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw), gb = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw)
            ga.initialize(repeating: 0, count: ph * pw); gb.initialize(repeating: 0, count: ph * pw)
            defer { pa.deallocate(); pb.deallocate(); ga.deallocate(); gb.deallocate() }
            let s8 = Vec8(repeating: scale), soft8 = Vec8(repeating: soft), eps8 = Vec8(repeating: epsilon), two = Vec8(repeating: 2)
            for y in 0..<h {
                let row = (y + r) * pw + r
                for (dy, dx) in offsets {
                    let q = row + dy * pw + dx
                    var x = 0
                    while x < vectorEnd {
                        let da = load8(pa + q + x) - load8(pa + row + x), db = load8(pb + q + x) - load8(pb + row + x)
                        let sa = da * da + eps8, sb = db * db + eps8
                        let rootA = sa.squareRoot(), rootB = sb.squareRoot()
                        let ta = da / rootA, tb = db / rootB
                        let diff = ta - tb, d = diff * diff, denominator = d + soft8
                        // d/dD of D / (D + 0.1) is 0.1 / (D + 0.1)²; dD/dtA = 2(tA − tB); dtA/ddA = 0.81 / (dA² + 0.81)^{3/2}.
                        let common = s8 * (soft8 / (denominator * denominator)) * (two * diff)
                        let gA = common * (eps8 / (sa * rootA)), gB = common * (eps8 / (sb * rootB))
                        store8(load8(ga + q + x) + gA, ga + q + x); store8(load8(ga + row + x) - gA, ga + row + x)
                        store8(load8(gb + q + x) - gB, gb + q + x); store8(load8(gb + row + x) + gB, gb + row + x)
                        x += 8
                    }
                    while x < w {
                        let da = pa[q + x] - pa[row + x], db = pb[q + x] - pb[row + x]
                        let sa = da * da + epsilon, sb = db * db + epsilon, rootA = sa.squareRoot(), rootB = sb.squareRoot()
                        let diff = da / rootA - db / rootB, d = diff * diff, denominator = d + soft
                        let common = scale * (soft / (denominator * denominator)) * (2 * diff)
                        let gA = common * (epsilon / (sa * rootA)), gB = common * (epsilon / (sb * rootB))
                        ga[q + x] += gA; ga[row + x] -= gA; gb[q + x] -= gB; gb[row + x] += gB
                        x += 1
                    }
                }
            }
            for (g, outAddress) in [(ga, gaA), (gb, gbA)] {
                guard let outAddress else { continue }
                let out = UnsafeMutablePointer<Float>(bitPattern: outAddress)! + n * h * w
                out.initialize(repeating: 0, count: h * w)
                // The adjoint of replicate padding: every padded sample's gradient goes to the edge sample it copied.
                for y in 0..<ph {
                    let target = out + min(max(y - r, 0), h - 1) * w
                    for x in 0..<pw { target[min(max(x - r, 0), w - 1)] += g[y * pw + x] }
                }
            }
        }
    }
}
