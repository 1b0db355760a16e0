/// A picture as planar float samples in [0, 1]: `channels` planes of `height` rows of `width` samples,
/// channel-major (the NCHW layout of one tensor image, N = 1). Channels are R, G, B and optionally alpha.
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var data: [Float]

    public init(width: Int, height: Int, channels: Int = 3, data: [Float]) {
        precondition(width > 0 && height > 0 && channels > 0 && data.count == width * height * channels,
                     "image data does not match \(channels)×\(height)×\(width)")
        self.width = width; self.height = height; self.channels = channels; self.data = data
    }

    public init(width: Int, height: Int, channels: Int = 3, fill: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  data: [Float](repeating: fill, count: width * height * channels))
    }

    public var planeSize: Int { width * height }

    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { data[(c * height + y) * width + x] }
        set { data[(c * height + y) * width + x] = newValue }
    }

    public func sameShape(as other: Image) -> Bool {
        width == other.width && height == other.height && channels == other.channels
    }

    /// The picture mirrored left to right.
    public func mirrored() -> Image {
        var out = data
        out.withUnsafeMutableBufferPointer { dst in
            data.withUnsafeBufferPointer { src in
                for row in 0..<(channels * height) {
                    let s = row * width
                    for x in 0..<width { dst[s + x] = src[s + width - 1 - x] }
                }
            }
        }
        return Image(width: width, height: height, channels: channels, data: out)
    }

    /// The picture flipped top to bottom.
    public func flipped() -> Image {
        var out = data
        out.withUnsafeMutableBufferPointer { dst in
            data.withUnsafeBufferPointer { src in
                for c in 0..<channels {
                    let plane = c * planeSize
                    for y in 0..<height {
                        let (s, d) = (plane + y * width, plane + (height - 1 - y) * width)
                        for x in 0..<width { dst[d + x] = src[s + x] }
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: channels, data: out)
    }

    /// The picture turned clockwise by a multiple of 90 degrees (as players apply a display matrix).
    public func rotatedClockwise(quarterTurns: Int) -> Image {
        let q = ((quarterTurns % 4) + 4) % 4
        if q == 0 { return self }
        let w2 = q == 2 ? width : height, h2 = q == 2 ? height : width
        var out = [Float](repeating: 0, count: data.count)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    let s = c * planeSize
                    for y in 0..<height {
                        for x in 0..<width {
                            let (x2, y2): (Int, Int)
                            switch q {
                            case 1: (x2, y2) = (height - 1 - y, x)
                            case 2: (x2, y2) = (width - 1 - x, height - 1 - y)
                            default: (x2, y2) = (y, width - 1 - x)
                            }
                            dst[s + y2 * w2 + x2] = src[s + y * width + x]
                        }
                    }
                }
            }
        }
        return Image(width: w2, height: h2, channels: channels, data: out)
    }
}
