/// Rounding to float16 for weight files, for tensors whose sums along the first axis matter more than each value.
extension Tensor {
    /// Float16-representable values (returned as float32) such that, for every index of the trailing axes, the sum
    /// over the first axis is kept: in each column the values are rounded from the largest magnitude down, each
    /// carrying the previous ones' rounding error, so what is left over (at most half a float16 step of the column's
    /// smallest value) is far below plain rounding's. A SepConv head's last convolution needs this: its 1-D kernel's
    /// taps are differences of large weights, and plain rounding of each weight shifted every kernel's sum by about
    /// 1% (a whole frame 1% too bright, 0.6 dB on Middlebury; measured).
    public func halfPrecisionKeepingSums() -> Tensor {
        let rows = shape.first ?? 1, columns = rows == 0 ? 0 : count / rows
        var out = Tensor.zeroedStorage(count)
        var order = Array(0..<rows)
        for j in 0..<columns {
            order.sort { (Swift.abs(data[$0 * columns + j]), $1) > (Swift.abs(data[$1 * columns + j]), $0) }
            var carry = 0.0
            for i in order {
                let wanted = Double(data[i * columns + j]) + carry
                let rounded = Float(Float16(Float(wanted)))
                out[i * columns + j] = rounded
                carry = wanted - Double(rounded)
            }
        }
        return Tensor(shape: shape, data: out)
    }
}
