import Frames
import Kernels
import Tensor

/// Frames in and out of a network: planar RGB images as [1, 3, H, W] tensors padded at the right and bottom
/// to the network's size unit, and outputs cropped back to the frame.
enum NetworkIO {
    static func input(_ im: Image, unit: Int, padding: PaddingMode = .replicate) -> Tensor {
        let ph = (im.height + unit - 1) / unit * unit, pw = (im.width + unit - 1) / unit * unit
        let rgb = Tensor(shape: [1, 3, im.height, im.width], data: Array(im.data[0..<(3 * im.planeSize)]))
        return ph == im.height && pw == im.width ? rgb : rgb.padded(top: 0, bottom: ph - im.height, left: 0, right: pw - im.width, mode: padding)
    }

    static func image(from out: Tensor, like a: Image) -> Image {
        let (ph, pw) = (out.shape[2], out.shape[3])
        var data = [Float](repeating: 0, count: 3 * a.planeSize)
        out.data.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                for y in 0..<a.height {
                    for x in 0..<a.width { data[(c * a.height + y) * a.width + x] = src[(c * ph + y) * pw + x] }
                }
            }
        }
        return Image(width: a.width, height: a.height, channels: 3, data: data)
    }
}
