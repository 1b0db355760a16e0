import Foundation
import Frames
import Kernels

/// Image quality measures with the benchmark conventions of docs/BENCHMARKS.md, so that `tween eval` figures compare with the
/// published ones: both images quantised to 8-bit RGB first.
public enum Metrics {
    /// 8-bit values (0…255) of the first three channels, rounded to nearest.
    static func eightBit(_ image: Image) -> [Double] {
        let n = min(3, image.channels) * image.planeSize
        return (0..<n).map { (Double(max(0, min(1, image.data[$0]))) * 255).rounded() }
    }

    /// PSNR in dB, peak 255, MSE over all pixels of the three colour channels (∞ for identical images).
    public static func psnr(_ a: Image, _ b: Image) -> Double {
        precondition(a.sameShape(as: b), "PSNR of images of different shapes")
        let x = eightBit(a), y = eightBit(b)
        var sum = 0.0
        for i in 0..<x.count { let d = x[i] - y[i]; sum += d * d }
        let mse = sum / Double(x.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// SSIM (Wang et al. 2004): Gaussian window σ = 1.5 truncated at 3.5σ (11 taps), data range 255, population
    /// covariance, computed per RGB channel and averaged; the filter reflects at the borders and the 5-pixel
    /// border of the SSIM map is left out of the mean (as scikit-image does).
    public static func ssim(_ a: Image, _ b: Image) -> Double {
        precondition(a.sameShape(as: b), "SSIM of images of different shapes")
        let x = eightBit(a), y = eightBit(b)
        let channels = min(3, a.channels), w = a.width, h = a.height, n = a.planeSize
        // One channel per thread; summed in channel order, so the result does not depend on the thread count.
        let perChannel = UnsafeMutablePointer<Double>.allocate(capacity: channels)
        defer { perChannel.deallocate() }
        let address = Int(bitPattern: perChannel)
        ThreadPool.shared.parallelFor(channels) { c in
            let xs = Array(x[(c * n)..<((c + 1) * n)]), ys = Array(y[(c * n)..<((c + 1) * n)])
            UnsafeMutablePointer<Double>(bitPattern: address)![c] = ssimPlane(xs, ys, width: w, height: h)
        }
        return (0..<channels).reduce(0.0) { $0 + perChannel[$1] } / Double(channels)
    }

    static let gaussian: [Double] = {
        let sigma = 1.5, radius = 5
        let k = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +)
        return k.map { $0 / s }
    }()

    /// scipy.ndimage 'reflect' mode: … c b a | a b c … (the edge sample repeated).
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int {
        var i = i
        let period = 2 * n
        i = ((i % period) + period) % period
        return i < n ? i : period - 1 - i
    }

    static func blur(_ p: [Double], width w: Int, height h: Int) -> [Double] {
        let k = gaussian, r = k.count / 2
        var tmp = [Double](repeating: 0, count: p.count), out = tmp
        // Samples whose whole window lies inside skip the reflection (the same sums in the same order).
        for y in 0..<h {
            for x in 0..<w {
                var s = 0.0
                if x >= r && x + r < w {
                    for j in -r...r { s += k[j + r] * p[y * w + x + j] }
                } else {
                    for j in -r...r { s += k[j + r] * p[y * w + reflect(x + j, w)] }
                }
                tmp[y * w + x] = s
            }
        }
        for y in 0..<h {
            let inside = y >= r && y + r < h
            for x in 0..<w {
                var s = 0.0
                if inside {
                    for j in -r...r { s += k[j + r] * tmp[(y + j) * w + x] }
                } else {
                    for j in -r...r { s += k[j + r] * tmp[reflect(y + j, h) * w + x] }
                }
                out[y * w + x] = s
            }
        }
        return out
    }

    static func ssimPlane(_ x: [Double], _ y: [Double], width w: Int, height h: Int) -> Double {
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        let ux = blur(x, width: w, height: h), uy = blur(y, width: w, height: h)
        let uxx = blur(zip(x, x).map { $0 * $1 }, width: w, height: h)
        let uyy = blur(zip(y, y).map { $0 * $1 }, width: w, height: h)
        let uxy = blur(zip(x, y).map { $0 * $1 }, width: w, height: h)
        let pad = 5
        var sum = 0.0, count = 0
        for yy in pad..<max(pad, h - pad) {
            for xx in pad..<max(pad, w - pad) {
                let i = yy * w + xx
                let vx = uxx[i] - ux[i] * ux[i], vy = uyy[i] - uy[i] * uy[i], vxy = uxy[i] - ux[i] * uy[i]
                let s = ((2 * ux[i] * uy[i] + c1) * (2 * vxy + c2)) /
                    ((ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2))
                sum += s; count += 1
            }
        }
        return count == 0 ? 1 : sum / Double(count)
    }
}
