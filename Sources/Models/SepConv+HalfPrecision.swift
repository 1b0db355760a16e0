import Tensor

extension SepConv {
    /// The keys of each kernel head's last convolution, whose outputs are the 1-D kernels' taps.
    static let tapKeys = ["moduleVertical1", "moduleHorizontal1", "moduleVertical2", "moduleHorizontal2"]
        .flatMap { ["\($0).7.weight", "\($0).7.bias"] }

    /// `weights` made float16-representable for a weight file: the taps' layers are rounded so that every kernel's
    /// sum (the frame's brightness) survives (`Tensor.halfPrecisionKeepingSums`); the rest is left to plain rounding.
    public static func halfPrecisionWeights(_ weights: [String: Tensor]) -> [String: Tensor] {
        var out = weights
        for key in tapKeys { out[key] = weights[key]?.halfPrecisionKeepingSums() }
        return out
    }
}
