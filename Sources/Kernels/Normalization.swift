import Foundation

/// Batch normalisation with batch statistics (training), per channel of NCHW, in two passes forward and two backward
/// instead of the dozen full passes of its composition from elementwise operations. Channels are split over the
/// pool; every sum runs in one fixed order (double precision across blocks), so any thread count gives the same bytes.
public enum BatchNormalization {
    /// mean[c] and the biased variance[c] over N, H and W.
    public static func statistics(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                                  mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (xA, mA, vA) = (Int(bitPattern: x), Int(bitPattern: mean), Int(bitPattern: variance))
        forChannels(channels, work: batch * plane, pool: pool) { c in
            let x = UnsafePointer<Float>(bitPattern: xA)!, count = Double(batch * plane)
            var s = 0.0
            for n in 0..<batch { s += Elementwise.sum(x + (n * channels + c) * plane, count: plane) }
            let mu = Float(s / count), vmu = Vec8(repeating: mu)
            var ss = 0.0
            for n in 0..<batch {
                let p = x + (n * channels + c) * plane
                var i = 0
                while i + 256 <= plane {
                    var acc = Vec8(repeating: 0)
                    for j in stride(from: i, to: i + 256, by: 8) { let d = load8(p + j) - vmu; acc = acc.addingProduct(d, d) }
                    ss += Double(acc.sum()); i += 256
                }
                while i < plane { let d = p[i] - mu; ss += Double(d * d); i += 1 }
            }
            UnsafeMutablePointer<Float>(bitPattern: mA)![c] = mu
            UnsafeMutablePointer<Float>(bitPattern: vA)![c] = Float(ss / count)
        }
    }

    /// out = (x − mean)·invStd·weight + bias per channel.
    public static func normalize(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, mean: UnsafePointer<Float>,
                                 invStd: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 _ out: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (xA, oA, mA, iA, wA, bA) = (Int(bitPattern: x), Int(bitPattern: out), Int(bitPattern: mean), Int(bitPattern: invStd),
                                        Int(bitPattern: weight), Int(bitPattern: bias))
        forChannels(channels, work: batch * plane, pool: pool) { c in
            let mu = UnsafePointer<Float>(bitPattern: mA)![c], inv = UnsafePointer<Float>(bitPattern: iA)![c]
            let gamma = UnsafePointer<Float>(bitPattern: wA)![c], beta = UnsafePointer<Float>(bitPattern: bA)![c]
            let (vmu, vinv, vg, vb) = (Vec8(repeating: mu), Vec8(repeating: inv), Vec8(repeating: gamma), Vec8(repeating: beta))
            for n in 0..<batch {
                let p = UnsafePointer<Float>(bitPattern: xA)! + (n * channels + c) * plane
                let o = UnsafeMutablePointer<Float>(bitPattern: oA)! + (n * channels + c) * plane
                var i = 0
                while i + 8 <= plane { store8((load8(p + i) - vmu) * vinv * vg + vb, o + i); i += 8 }
                while i < plane { o[i] = (p[i] - mu) * inv * gamma + beta; i += 1 }
            }
        }
    }

    /// With x̂ = (x − mean)·invStd: dBias = Σ dy, dWeight = Σ dy·x̂ and dx = weight·invStd·(dy − dBias/m − x̂·dWeight/m),
    /// m = N·H·W. `dx` is overwritten.
    public static func backward(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                                mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
                                pool: ThreadPool = .shared) {
        let (gA, xA, dxA, mA, iA, wA) = (Int(bitPattern: dy), Int(bitPattern: x), Int(bitPattern: dx), Int(bitPattern: mean),
                                         Int(bitPattern: invStd), Int(bitPattern: weight))
        let (dwA, dbA) = (Int(bitPattern: dWeight), Int(bitPattern: dBias))
        forChannels(channels, work: batch * plane, pool: pool) { c in
            let mu = UnsafePointer<Float>(bitPattern: mA)![c], inv = UnsafePointer<Float>(bitPattern: iA)![c]
            let gamma = UnsafePointer<Float>(bitPattern: wA)![c], m = Float(batch * plane)
            let (vmu, vinv) = (Vec8(repeating: mu), Vec8(repeating: inv))
            var sumG = 0.0, sumGX = 0.0
            for n in 0..<batch {
                let g = UnsafePointer<Float>(bitPattern: gA)! + (n * channels + c) * plane
                let p = UnsafePointer<Float>(bitPattern: xA)! + (n * channels + c) * plane
                var i = 0
                while i + 256 <= plane {
                    var a = Vec8(repeating: 0), b = Vec8(repeating: 0)
                    for j in stride(from: i, to: i + 256, by: 8) {
                        let gv = load8(g + j)
                        a += gv; b = b.addingProduct(gv, (load8(p + j) - vmu) * vinv)
                    }
                    sumG += Double(a.sum()); sumGX += Double(b.sum()); i += 256
                }
                while i < plane { sumG += Double(g[i]); sumGX += Double(g[i] * ((p[i] - mu) * inv)); i += 1 }
            }
            let db = Float(sumG), dw = Float(sumGX)
            UnsafeMutablePointer<Float>(bitPattern: dbA)![c] = db
            UnsafeMutablePointer<Float>(bitPattern: dwA)![c] = dw
            let scale = gamma * inv, meanG = db / m, meanGX = dw / m
            let (vs, vmg, vmgx) = (Vec8(repeating: scale), Vec8(repeating: meanG), Vec8(repeating: meanGX))
            for n in 0..<batch {
                let g = UnsafePointer<Float>(bitPattern: gA)! + (n * channels + c) * plane
                let p = UnsafePointer<Float>(bitPattern: xA)! + (n * channels + c) * plane
                let o = UnsafeMutablePointer<Float>(bitPattern: dxA)! + (n * channels + c) * plane
                var i = 0
                while i + 8 <= plane {
                    let xhat = (load8(p + i) - vmu) * vinv
                    store8(vs * (load8(g + i) - vmg - xhat * vmgx), o + i); i += 8
                }
                while i < plane { let xhat = (p[i] - mu) * inv; o[i] = scale * (g[i] - meanG - xhat * meanGX); i += 1 }
            }
        }
    }

    static func forChannels(_ channels: Int, work: Int, pool: ThreadPool, _ body: @escaping (Int) -> Void) {
        if channels * work < Elementwise.parallelThreshold || pool.threads == 1 { for c in 0..<channels { body(c) } }
        else { pool.parallelFor(channels, body) }
    }
}
