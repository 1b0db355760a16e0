/// PyTorch's `pixel_shuffle` and its inverse on NCHW planes.
public enum PixelShuffle {
    /// out[p][y·r + i][x·r + j] = input[p·r² + i·r + j][y][x] for `planes` output planes, one per chunk; with
    /// `inverse`, the same map read the other way (pixel unshuffle: `out` is read and `input` written).
    public static func apply(_ input: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, planes: Int, r: Int,
                             h: Int, w: Int, inverse: Bool = false, pool: ThreadPool = .shared) {
        let (iA, oA) = (Int(bitPattern: input), Int(bitPattern: out))
        pool.parallelFor(planes) { p in
            let src = UnsafeMutablePointer<Float>(bitPattern: iA)! + p * r * r * h * w
            let dst = UnsafeMutablePointer<Float>(bitPattern: oA)! + p * r * r * h * w
            for y in 0..<h { for i in 0..<r {
                let row = dst + (y * r + i) * w * r
                for j in 0..<r {
                    let plane = src + ((i * r + j) * h + y) * w
                    if inverse { for x in 0..<w { plane[x] = row[x * r + j] } } else { for x in 0..<w { row[x * r + j] = plane[x] } }
                }
            } }
        }
    }
}
