/// Forward warping by summation splatting (Niklaus & Liu, "Softmax Splatting"): every source sample is added to
/// the four pixels around its target position p + flow(p) with bilinear weights. Average and softmax splatting
/// are built from this one primitive (splat the weights too, then divide).
public enum Splatting {
    /// input [N][C][H][W], flow [N][2][H][W] (x, y in pixels); out overwritten.
    public static func forward(_ input: UnsafePointer<Float>, flow: UnsafePointer<Float>, batch: Int, channels: Int,
                               height h: Int, width w: Int, into out: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (ia, fa, oa) = (Int(bitPattern: input), Int(bitPattern: flow), Int(bitPattern: out))
        pool.parallelFor(batch * channels) { plane in
            let n = plane / channels
            let src = UnsafePointer<Float>(bitPattern: ia)! + plane * h * w
            let fx = UnsafePointer<Float>(bitPattern: fa)! + n * 2 * h * w, fy = fx + h * w
            let dst = UnsafeMutablePointer<Float>(bitPattern: oa)! + plane * h * w
            dst.update(repeating: 0, count: h * w)
            for y in 0..<h { for x in 0..<w {
                let p = y * w + x
                let tx = Float(x) + fx[p], ty = Float(y) + fy[p]
                guard tx.isFinite && ty.isFinite else { continue }
                let x0 = Int(tx.rounded(.down)), y0 = Int(ty.rounded(.down)), ax = tx - Float(x0), ay = ty - Float(y0)
                let v = src[p]
                @inline(__always) func add(_ yy: Int, _ xx: Int, _ wt: Float) {
                    if xx >= 0 && xx < w && yy >= 0 && yy < h { dst[yy * w + xx] += wt * v }
                }
                add(y0, x0, (1 - ax) * (1 - ay)); add(y0, x0 + 1, ax * (1 - ay))
                add(y0 + 1, x0, (1 - ax) * ay); add(y0 + 1, x0 + 1, ax * ay)
            } }
        }
    }

    /// Gradients (overwritten) with respect to the input and the flow.
    public static func backward(_ g: UnsafePointer<Float>, input: UnsafePointer<Float>, flow: UnsafePointer<Float>, batch: Int,
                                channels: Int, height h: Int, width w: Int, gradInput: UnsafeMutablePointer<Float>,
                                gradFlow: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        let (ga, ia, fa, gia, gfa) = (Int(bitPattern: g), Int(bitPattern: input), Int(bitPattern: flow),
                                      Int(bitPattern: gradInput), Int(bitPattern: gradFlow))
        pool.parallelFor(batch * h) { task in
            let n = task / h, y = task % h
            let fx = UnsafePointer<Float>(bitPattern: fa)! + n * 2 * h * w, fy = fx + h * w
            let dfx = UnsafeMutablePointer<Float>(bitPattern: gfa)! + n * 2 * h * w, dfy = dfx + h * w
            for x in 0..<w {
                let p = y * w + x
                let tx = Float(x) + fx[p], ty = Float(y) + fy[p]
                var sx: Float = 0, sy: Float = 0
                let x0 = Int(tx.rounded(.down)), y0 = Int(ty.rounded(.down)), ax = tx - Float(x0), ay = ty - Float(y0)
                for c in 0..<channels {
                    let plane = n * channels + c
                    let gp = UnsafePointer<Float>(bitPattern: ga)! + plane * h * w
                    let v = (UnsafePointer<Float>(bitPattern: ia)! + plane * h * w)[p]
                    @inline(__always) func at(_ yy: Int, _ xx: Int) -> Float {
                        (xx >= 0 && xx < w && yy >= 0 && yy < h) ? gp[yy * w + xx] : 0
                    }
                    let g00 = at(y0, x0), g01 = at(y0, x0 + 1), g10 = at(y0 + 1, x0), g11 = at(y0 + 1, x0 + 1)
                    if tx.isFinite && ty.isFinite {
                        (UnsafeMutablePointer<Float>(bitPattern: gia)! + plane * h * w)[p] =
                            (1 - ax) * (1 - ay) * g00 + ax * (1 - ay) * g01 + (1 - ax) * ay * g10 + ax * ay * g11
                    } else {
                        (UnsafeMutablePointer<Float>(bitPattern: gia)! + plane * h * w)[p] = 0
                    }
                    sx += v * ((1 - ay) * (g01 - g00) + ay * (g11 - g10))
                    sy += v * ((1 - ax) * (g10 - g00) + ax * (g11 - g01))
                }
                dfx[p] = sx; dfy[p] = sy
            }
        }
    }
}
