/// Per-pixel ("adaptive") convolutions of the kernel-based interpolation models, on an input padded by K − 1:
/// - separable (SepConv): out[c][y][x] = Σᵢ v[i][y][x] · Σⱼ h[j][y][x] · in[c][y+i][x+j];
/// - dense (AdaConv):     out[c][y][x] = Σᵢⱼ k[i·K+j][y][x] · in[c][y+i][x+j].
/// Both vectorise over x (kernels are stored [K][H][W], so each tap is a contiguous row) and sum the K outer terms
/// with Kahan compensation, since 51 × 51 products are summed per output sample.
public enum LocalConvolution {
    /// Kahan summation, lane by lane: sum += terms, carrying each lane's lost low-order part in `comp`.
    @inline(__always)
    static func compensatedAdd(_ terms: UnsafePointer<Float>, into sum: UnsafeMutablePointer<Float>,
                               compensation comp: UnsafeMutablePointer<Float>, count w: Int) {
        var x = 0
        while x + 8 <= w {
            let term = load8(terms + x) - load8(comp + x)
            let s0 = load8(sum + x), t = s0 + term
            store8((t - s0) - term, comp + x); store8(t, sum + x); x += 8
        }
        while x < w {
            let term = terms[x] - comp[x], t = sum[x] + term
            comp[x] = (t - sum[x]) - term; sum[x] = t; x += 1
        }
    }

    /// in: [N][C][H+K−1][W+K−1]; v, h: [N][K][H][W]; out: [N][C][H][W].
    public static func separable(_ input: UnsafePointer<Float>, vertical v: UnsafePointer<Float>,
                                 horizontal hz: UnsafePointer<Float>, batch: Int, channels: Int, height h: Int,
                                 width w: Int, kernel k: Int, into out: UnsafeMutablePointer<Float>,
                                 pool: ThreadPool = .shared) {
        let ph = h + k - 1, pw = w + k - 1
        let (ia, va, ha, oa) = (Int(bitPattern: input), Int(bitPattern: v), Int(bitPattern: hz), Int(bitPattern: out))
        pool.parallelFor(batch * h) { task in
            let n = task / h, y = task % h
            let vK = UnsafePointer<Float>(bitPattern: va)! + n * k * h * w + y * w
            let hK = UnsafePointer<Float>(bitPattern: ha)! + n * k * h * w + y * w
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * w) { buf in
                let row = buf.baseAddress!, sum = row + w, comp = sum + w
                for c in 0..<channels {
                    let plane = UnsafePointer<Float>(bitPattern: ia)! + (n * channels + c) * ph * pw
                    sum.update(repeating: 0, count: w); comp.update(repeating: 0, count: w)
                    for i in 0..<k {
                        let src = plane + (y + i) * pw
                        row.update(repeating: 0, count: w)
                        for j in 0..<k {
                            let hj = hK + j * h * w, s = src + j
                            var x = 0
                            while x + 8 <= w { store8(load8(row + x).addingProduct(load8(hj + x), load8(s + x)), row + x); x += 8 }
                            while x < w { row[x] += hj[x] * s[x]; x += 1 }
                        }
                        // sum += v_i · row
                        var x = 0
                        let vi = vK + i * h * w
                        while x + 8 <= w { store8(load8(vi + x) * load8(row + x), row + x); x += 8 }
                        while x < w { row[x] *= vi[x]; x += 1 }
                        compensatedAdd(row, into: sum, compensation: comp, count: w)
                    }
                    (UnsafeMutablePointer<Float>(bitPattern: oa)! + ((n * channels + c) * h + y) * w).update(from: sum, count: w)
                }
            }
        }
    }

    /// Gradients of `separable` (each overwritten): input by scatter (one task per channel plane, so sums keep one
    /// order), kernels by gather (one task per output row). Each kernel tap's gradient is the output gradient times a
    /// filtered row: ∂v[i] = Σ_c g·Σⱼ h[j]·in[y+i][x+j] and ∂h[j] = Σ_c g·Σᵢ v[i]·in[y+i][x+j], the inner sums formed
    /// in registers (`sumOfProducts`) rather than by updating 2K gradient rows per tap pair.
    public static func separableBackward(_ g: UnsafePointer<Float>, input: UnsafePointer<Float>, vertical v: UnsafePointer<Float>,
                                         horizontal hz: UnsafePointer<Float>, batch: Int, channels: Int, height h: Int,
                                         width w: Int, kernel k: Int, gradInput: UnsafeMutablePointer<Float>,
                                         gradVertical: UnsafeMutablePointer<Float>, gradHorizontal: UnsafeMutablePointer<Float>,
                                         pool: ThreadPool = .shared) {
        let ph = h + k - 1, pw = w + k - 1
        let (ga, ia, va, ha) = (Int(bitPattern: g), Int(bitPattern: input), Int(bitPattern: v), Int(bitPattern: hz))
        let (gia, gva, gha) = (Int(bitPattern: gradInput), Int(bitPattern: gradVertical), Int(bitPattern: gradHorizontal))
        pool.parallelFor(batch * channels) { plane in
            let n = plane / channels
            let gp = UnsafePointer<Float>(bitPattern: ga)! + plane * h * w
            let d = UnsafeMutablePointer<Float>(bitPattern: gia)! + plane * ph * pw
            let vb = UnsafePointer<Float>(bitPattern: va)! + n * k * h * w, hb = UnsafePointer<Float>(bitPattern: ha)! + n * k * h * w
            d.update(repeating: 0, count: ph * pw)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: w) { buf in
                let gv = buf.baseAddress!
                // Same products, in the same order, as g·v[i]·h[j] summed over (y, i, j): the bytes do not change.
                for y in 0..<h { for i in 0..<k {
                    let vi = vb + i * h * w + y * w, gr = gp + y * w
                    var x = 0
                    while x + 8 <= w { store8(load8(gr + x) * load8(vi + x), gv + x); x += 8 }
                    while x < w { gv[x] = gr[x] * vi[x]; x += 1 }
                    for j in 0..<k {
                        let dst = d + (y + i) * pw + j, hj = hb + j * h * w + y * w
                        x = 0
                        while x + 8 <= w { store8(load8(dst + x) + load8(gv + x) * load8(hj + x), dst + x); x += 8 }
                        while x < w { dst[x] += gv[x] * hj[x]; x += 1 }
                    }
                } }
            }
        }
        // The K kernel rows of one output row lie a plane apart, so they share cache sets: each task copies them
        // into rows of a padded length first, or the term-by-term sums below would miss the L1 on every load.
        let rowStride = (w + 7) / 8 * 8 + 8
        pool.parallelFor(batch * h) { task in
            let n = task / h, y = task % h
            let vPlanes = UnsafePointer<Float>(bitPattern: va)! + n * k * h * w + y * w, hPlanes = UnsafePointer<Float>(bitPattern: ha)! + n * k * h * w + y * w
            let dv = UnsafeMutablePointer<Float>(bitPattern: gva)! + n * k * h * w + y * w
            let dh = UnsafeMutablePointer<Float>(bitPattern: gha)! + n * k * h * w + y * w
            for i in 0..<k { (dv + i * h * w).update(repeating: 0, count: w); (dh + i * h * w).update(repeating: 0, count: w) }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * k * rowStride + w) { buf in
                let vb = buf.baseAddress!, hb = vb + k * rowStride, filtered = hb + k * rowStride
                for i in 0..<k {
                    (vb + i * rowStride).update(from: vPlanes + i * h * w, count: w)
                    (hb + i * rowStride).update(from: hPlanes + i * h * w, count: w)
                }
                for c in 0..<channels {
                    let plane = UnsafePointer<Float>(bitPattern: ia)! + (n * channels + c) * ph * pw + y * pw
                    let gr = UnsafePointer<Float>(bitPattern: ga)! + ((n * channels + c) * h + y) * w
                    for i in 0..<k {
                        // Row y+i filtered by the horizontal kernels: Σⱼ h[j][x]·in[y+i][x+j].
                        sumOfProducts(hb, stride: rowStride, plane + i * pw, stride: 1, terms: k, count: w, into: filtered)
                        addProduct(gr, filtered, into: dv + i * h * w, count: w)
                    }
                    for j in 0..<k {
                        // Column offset j filtered by the vertical kernels: Σᵢ v[i][x]·in[y+i][x+j].
                        sumOfProducts(vb, stride: rowStride, plane + j, stride: pw, terms: k, count: w, into: filtered)
                        addProduct(gr, filtered, into: dh + j * h * w, count: w)
                    }
                }
            }
        }
    }

    /// out[x] = Σ_{t<terms} a[t·sa + x] · b[t·sb + x] for x < count, 32 lanes at a time held in registers.
    @inline(__always)
    static func sumOfProducts(_ a: UnsafePointer<Float>, stride sa: Int, _ b: UnsafePointer<Float>, stride sb: Int,
                              terms: Int, count w: Int, into out: UnsafeMutablePointer<Float>) {
        var x = 0
        while x + 32 <= w {
            var s0 = Vec8(), s1 = Vec8(), s2 = Vec8(), s3 = Vec8()
            var pa = a + x, pb = b + x
            for _ in 0..<terms {
                s0 = s0.addingProduct(load8(pa), load8(pb)); s1 = s1.addingProduct(load8(pa + 8), load8(pb + 8))
                s2 = s2.addingProduct(load8(pa + 16), load8(pb + 16)); s3 = s3.addingProduct(load8(pa + 24), load8(pb + 24))
                pa += sa; pb += sb
            }
            store8(s0, out + x); store8(s1, out + x + 8); store8(s2, out + x + 16); store8(s3, out + x + 24)
            x += 32
        }
        while x + 8 <= w {
            var s0 = Vec8()
            var pa = a + x, pb = b + x
            for _ in 0..<terms { s0 = s0.addingProduct(load8(pa), load8(pb)); pa += sa; pb += sb }
            store8(s0, out + x); x += 8
        }
        while x < w {
            var s: Float = 0
            var pa = a + x, pb = b + x
            for _ in 0..<terms { s = s.addingProduct(pa.pointee, pb.pointee); pa += sa; pb += sb }
            out[x] = s; x += 1
        }
    }

    /// out[x] += a[x] · b[x].
    @inline(__always)
    static func addProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count w: Int) {
        var x = 0
        while x + 8 <= w { store8(load8(out + x).addingProduct(load8(a + x), load8(b + x)), out + x); x += 8 }
        while x < w { out[x] = out[x].addingProduct(a[x], b[x]); x += 1 }
    }

    /// in: [N][C][H+K−1][W+K−1]; kernels: [N][K·K][H][W]; out: [N][C][H][W].
    public static func dense(_ input: UnsafePointer<Float>, kernels kk: UnsafePointer<Float>, batch: Int, channels: Int,
                             height h: Int, width w: Int, kernel k: Int, into out: UnsafeMutablePointer<Float>,
                             pool: ThreadPool = .shared) {
        let ph = h + k - 1, pw = w + k - 1
        let (ia, ka, oa) = (Int(bitPattern: input), Int(bitPattern: kk), Int(bitPattern: out))
        pool.parallelFor(batch * h) { task in
            let n = task / h, y = task % h
            let kb = UnsafePointer<Float>(bitPattern: ka)! + n * k * k * h * w + y * w
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * w) { buf in
                let row = buf.baseAddress!, sum = row + w, comp = sum + w
                for c in 0..<channels {
                    let plane = UnsafePointer<Float>(bitPattern: ia)! + (n * channels + c) * ph * pw
                    sum.update(repeating: 0, count: w); comp.update(repeating: 0, count: w)
                    for i in 0..<k {
                        row.update(repeating: 0, count: w)
                        for j in 0..<k {
                            let kij = kb + (i * k + j) * h * w, s = plane + (y + i) * pw + j
                            for x in 0..<w { row[x] += kij[x] * s[x] }
                        }
                        compensatedAdd(row, into: sum, compensation: comp, count: w)
                    }
                    (UnsafeMutablePointer<Float>(bitPattern: oa)! + ((n * channels + c) * h + y) * w).update(from: sum, count: w)
                }
            }
        }
    }

    public static func denseBackward(_ g: UnsafePointer<Float>, input: UnsafePointer<Float>, kernels kk: UnsafePointer<Float>,
                                     batch: Int, channels: Int, height h: Int, width w: Int, kernel k: Int,
                                     gradInput: UnsafeMutablePointer<Float>, gradKernels: UnsafeMutablePointer<Float>,
                                     pool: ThreadPool = .shared) {
        let ph = h + k - 1, pw = w + k - 1
        let (ga, ia, ka, gia, gka) = (Int(bitPattern: g), Int(bitPattern: input), Int(bitPattern: kk),
                                      Int(bitPattern: gradInput), Int(bitPattern: gradKernels))
        pool.parallelFor(batch * channels) { plane in
            let n = plane / channels
            let gp = UnsafePointer<Float>(bitPattern: ga)! + plane * h * w
            let d = UnsafeMutablePointer<Float>(bitPattern: gia)! + plane * ph * pw
            let kb = UnsafePointer<Float>(bitPattern: ka)! + n * k * k * h * w
            d.update(repeating: 0, count: ph * pw)
            for y in 0..<h { for t in 0..<(k * k) {
                let dst = d + (y + t / k) * pw + t % k, kt = kb + t * h * w + y * w, gr = gp + y * w
                for x in 0..<w { dst[x] += gr[x] * kt[x] }
            } }
        }
        pool.parallelFor(batch * h) { task in
            let n = task / h, y = task % h
            let dk = UnsafeMutablePointer<Float>(bitPattern: gka)! + n * k * k * h * w
            for t in 0..<(k * k) { (dk + t * h * w + y * w).update(repeating: 0, count: w) }
            for c in 0..<channels {
                let plane = UnsafePointer<Float>(bitPattern: ia)! + (n * channels + c) * ph * pw
                let gr = UnsafePointer<Float>(bitPattern: ga)! + ((n * channels + c) * h + y) * w
                for t in 0..<(k * k) {
                    let s = plane + (y + t / k) * pw + t % k, dst = dk + t * h * w + y * w
                    for x in 0..<w { dst[x] += gr[x] * s[x] }
                }
            }
        }
    }
}

/// Correlation (cost volume) of PWC-Net: out[n][(dy+d)·(2d+1) + dx+d][y][x] = (1/C) Σ_c a[c][y][x] · b[c][y+dy][x+dx],
/// zero where (y+dy, x+dx) is outside.
public enum Correlation {
    public static func forward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, batch: Int, channels: Int, height h: Int,
                               width w: Int, maxDisplacement d: Int, into out: UnsafeMutablePointer<Float>,
                               pool: ThreadPool = .shared) {
        let side = 2 * d + 1, scale = 1 / Float(channels)
        let (aa, ba, oa) = (Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: out))
        pool.parallelFor(batch * side * side) { task in
            let n = task / (side * side), disp = task % (side * side), dy = disp / side - d, dx = disp % side - d
            let o = UnsafeMutablePointer<Float>(bitPattern: oa)! + task * h * w
            o.update(repeating: 0, count: h * w)
            for c in 0..<channels {
                let pa = UnsafePointer<Float>(bitPattern: aa)! + (n * channels + c) * h * w
                let pb = UnsafePointer<Float>(bitPattern: ba)! + (n * channels + c) * h * w
                for y in max(0, -dy)..<min(h, h - dy) {
                    let x0 = max(0, -dx), x1 = min(w, w - dx)
                    let ra = pa + y * w, rb = pb + (y + dy) * w + dx, ro = o + y * w
                    for x in x0..<max(x0, x1) { ro[x] += ra[x] * rb[x] }
                }
            }
            for i in 0..<(h * w) { o[i] *= scale }
        }
    }

    /// Gradients with respect to both feature maps (overwritten).
    public static func backward(_ g: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, batch: Int,
                                channels: Int, height h: Int, width w: Int, maxDisplacement d: Int,
                                gradA: UnsafeMutablePointer<Float>, gradB: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let side = 2 * d + 1, scale = 1 / Float(channels)
        let (ga, aa, ba, gaa, gba) = (Int(bitPattern: g), Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: gradA), Int(bitPattern: gradB))
        pool.parallelFor(batch * channels) { plane in
            let n = plane / channels
            let pa = UnsafePointer<Float>(bitPattern: aa)! + plane * h * w, pb = UnsafePointer<Float>(bitPattern: ba)! + plane * h * w
            let da = UnsafeMutablePointer<Float>(bitPattern: gaa)! + plane * h * w, db = UnsafeMutablePointer<Float>(bitPattern: gba)! + plane * h * w
            da.update(repeating: 0, count: h * w); db.update(repeating: 0, count: h * w)
            for disp in 0..<(side * side) {
                let dy = disp / side - d, dx = disp % side - d
                let gp = UnsafePointer<Float>(bitPattern: ga)! + (n * side * side + disp) * h * w
                for y in max(0, -dy)..<min(h, h - dy) {
                    for x in max(0, -dx)..<max(max(0, -dx), min(w, w - dx)) {
                        let gv = gp[y * w + x] * scale, q = (y + dy) * w + x + dx
                        da[y * w + x] += gv * pb[q]; db[q] += gv * pa[y * w + x]
                    }
                }
            }
        }
    }
}
