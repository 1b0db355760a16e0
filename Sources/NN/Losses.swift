import Tensor

/// Training losses; each returns a scalar tensor.
public enum Loss {
    public static func l1(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).abs().mean() }
    public static func mse(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).squared().mean() }
    /// √((a − b)² + ε²), the smooth L1 of the flow and interpolation papers.
    public static func charbonnier(_ a: Tensor, _ b: Tensor, eps: Float = 1e-3) -> Tensor {
        ((a - b).squared() + eps * eps).sqrt().mean()
    }

    /// First-order smoothness of a field (flow): mean |∂x| + |∂y|.
    public static func smoothness(_ f: Tensor) -> Tensor {
        let (h, w) = (f.shape[2], f.shape[3])
        let dx = f.slice(axis: 3, 1..<w) - f.slice(axis: 3, 0..<(w - 1))
        let dy = f.slice(axis: 2, 1..<h) - f.slice(axis: 2, 0..<(h - 1))
        return dx.abs().mean() + dy.abs().mean()
    }

    /// 1 − SSIM with a uniform 3×3 window (the cheap form used as a training loss), per channel, averaged.
    public static func ssim(_ a: Tensor, _ b: Tensor, c1: Float = 0.01 * 0.01, c2: Float = 0.03 * 0.03) -> Tensor {
        let mx = a.avgPool(3, stride: 1), my = b.avgPool(3, stride: 1)
        let sxx = (a * a).avgPool(3, stride: 1) - mx * mx
        let syy = (b * b).avgPool(3, stride: 1) - my * my
        let sxy = (a * b).avgPool(3, stride: 1) - mx * my
        let num = (mx * my * 2 + c1) * (sxy * 2 + c2)
        let den = (mx * mx + my * my + c1) * (sxx + syy + c2)
        return (num / den).mean() * -1 + 1
    }
}

extension Loss {
    /// Census (ternary) loss of UnFlow / RIFE: compares the local 7×7 intensity structure of the two images
    /// (robust to brightness changes). Images [N, C, H, W] in [0, 1]; the channel mean is the intensity.
    /// `Tensor.censusDistance` computes it in one kernel.
    public static func census(_ a: Tensor, _ b: Tensor, patch: Int = 7) -> Tensor {
        func gray(_ x: Tensor) -> Tensor { x.shape[1] == 1 ? x : x.sum(channels: x.shape[1]) * (1 / Float(x.shape[1])) }
        return gray(a).censusDistance(gray(b), patch: patch)
    }
}

extension Tensor {
    /// Sum over the channel axis of NCHW, kept as one channel.
    public func sum(channels c: Int) -> Tensor {
        var total = slice(axis: 1, 0..<1)
        for i in 1..<max(1, c) { total = total + slice(axis: 1, i..<(i + 1)) }
        return total
    }
}
