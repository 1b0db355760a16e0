/// Plain scalar implementations that the fast kernels are tested against. Sums in Double.
public enum Reference {
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for t in 0..<k { s += Double(a[i * k + t]) * Double(b[t * n + j]) }
            c[i * n + j] = Float(s)
        } }
        return c
    }

    public static func conv2d(_ x: [Float], _ w: [Float], _ bias: [Float]?, batch: Int, _ g: ConvGeometry) -> [Float] {
        let oh = g.outHeight, ow = g.outWidth
        var y = [Float](repeating: 0, count: batch * g.outChannels * oh * ow)
        for n in 0..<batch { for co in 0..<g.outChannels {
            let group = co / g.outPerGroup
            for oy in 0..<oh { for ox in 0..<ow {
                var s = Double(bias?[co] ?? 0)
                for ci in 0..<g.inPerGroup { for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth {
                    let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                    let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                    guard let sy = g.source(iy, g.inHeight), let sx = g.source(ix, g.inWidth) else { continue }
                    let c = group * g.inPerGroup + ci
                    let xv = x[((n * g.inChannels + c) * g.inHeight + sy) * g.inWidth + sx]
                    let wv = w[((co * g.inPerGroup + ci) * g.kernelHeight + ky) * g.kernelWidth + kx]
                    s += Double(xv) * Double(wv)
                } } }
                y[((n * g.outChannels + co) * oh + oy) * ow + ox] = Float(s)
            } }
        } }
        return y
    }
}
