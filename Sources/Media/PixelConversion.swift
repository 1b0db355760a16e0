import CFFmpeg
import Foundation
import Frames

/// swscale flags used everywhere: accurate rounding, full-resolution chroma in and out, bit-exact output so that
/// results do not depend on the CPU's SIMD paths.
let scaleFlags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP | SWS_BITEXACT

/// A swscale context with our flags and no dithering: the float samples came from the source's own bit depth,
/// so rounding to nearest restores them, and dither noise would only cost the encoder bits (measured: +50% file
/// size and 2.5× x264 time at 1080p).
func makeScaler(_ sw: Int32, _ sh: Int32, _ src: AVPixelFormat, _ dw: Int32, _ dh: Int32, _ dst: AVPixelFormat) -> OpaquePointer? {
    guard let ctx = sws_alloc_context() else { return nil }
    let raw = UnsafeMutableRawPointer(ctx)
    av_opt_set_int(raw, "srcw", Int64(sw), 0); av_opt_set_int(raw, "srch", Int64(sh), 0)
    av_opt_set_int(raw, "src_format", Int64(src.rawValue), 0)
    av_opt_set_int(raw, "dstw", Int64(dw), 0); av_opt_set_int(raw, "dsth", Int64(dh), 0)
    av_opt_set_int(raw, "dst_format", Int64(dst.rawValue), 0)
    av_opt_set_int(raw, "sws_flags", Int64(scaleFlags), 0)
    av_opt_set(raw, "sws_dither", "none", 0)
    guard sws_init_context(ctx, nil, nil) >= 0 else { sws_freeContext(ctx); return nil }
    return ctx
}

/// The YUV matrix to use: the tagged one, or, when untagged, what players assume (BT.709 from 720p up, else BT.601).
func effectiveMatrix(_ colour: ColorTags, width: Int, height: Int) -> Int32 {
    if colour.matrix != 2 && colour.matrix != 3 { return colour.matrix }  // 2 unspecified, 3 reserved
    return width >= 1280 || height > 576 ? 1 : 6
}

func isFullRange(_ colour: ColorTags, pixelFormat: AVPixelFormat) -> Bool {
    if colour.range == 2 { return true }
    let name = av_get_pix_fmt_name(pixelFormat).map { String(cString: $0) } ?? ""
    return name.hasPrefix("yuvj")
}

func pixelFormatHasAlpha(_ f: AVPixelFormat) -> Bool {
    guard let d = av_pix_fmt_desc_get(f) else { return false }
    return (d.pointee.flags & UInt64(AV_PIX_FMT_FLAG_ALPHA)) != 0
}

/// Converts decoded pictures of one size and format to planar float RGB(A) with the stream's matrix and range.
final class RGBConverter {
    private let context: OpaquePointer
    private let width: Int32, height: Int32, source: Int32
    private let alpha: Bool

    init(for f: UnsafePointer<AVFrame>, colour: ColorTags, path: String) throws {
        width = f.pointee.width; height = f.pointee.height; source = f.pointee.format
        let src = AVPixelFormat(rawValue: source)
        alpha = pixelFormatHasAlpha(src)
        let dst = alpha ? AV_PIX_FMT_GBRAPF32LE : AV_PIX_FMT_GBRPF32LE
        guard let ctx = makeScaler(width, height, src, width, height, dst) else {
            throw MediaError(path, "cannot convert pixel format \(String(cString: av_get_pix_fmt_name(src)))")
        }
        context = ctx
        let matrix = effectiveMatrix(colour, width: Int(width), height: Int(height))
        let coefficients = sws_getCoefficients(matrix)
        sws_setColorspaceDetails(ctx, coefficients, isFullRange(colour, pixelFormat: src) ? 1 : 0,
                                 coefficients, 1, 0, 1 << 16, 1 << 16)
    }

    deinit { sws_freeContext(context) }

    func matches(_ f: UnsafePointer<AVFrame>) -> Bool {
        f.pointee.width == width && f.pointee.height == height && f.pointee.format == source
    }

    /// swscale writes straight into the image's planes (G, B, R, A order for the planar float formats).
    func convert(_ f: UnsafePointer<AVFrame>) throws -> Image {
        let w = Int(width), h = Int(height), channels = alpha ? 4 : 3, n = w * h
        let data = [Float](unsafeUninitializedCapacity: n * channels) { out, count in
            let base = out.baseAddress!
            let planes: [UnsafeMutablePointer<Float>] = [base + n, base + 2 * n, base, base + 3 * n]
            var dst = (0..<4).map { UnsafeMutableRawPointer(planes[$0]).assumingMemoryBound(to: UInt8.self) as UnsafeMutablePointer<UInt8>? }
            var strides = [Int32](repeating: Int32(w * 4), count: 4)
            if !alpha { dst[3] = nil; strides[3] = 0 }
            withUnsafePointer(to: f.pointee.data) { srcData in
                withUnsafePointer(to: f.pointee.linesize) { srcLines in
                    _ = sws_scale(context,
                                  UnsafeRawPointer(srcData).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                                  UnsafeRawPointer(srcLines).assumingMemoryBound(to: Int32.self), 0, height, dst, strides)
                }
            }
            count = n * channels
        }
        return Image(width: w, height: h, channels: channels, data: data)
    }
}

/// Converts planar float RGB(A) images, or decoded pictures of another format, into the encoder's format.
final class EncoderConverter {
    let width: Int32, height: Int32
    let format: AVPixelFormat
    let colour: ColorTags
    private var fromFloat: OpaquePointer?
    private var fromFloatAlpha = false
    private var fromNative: (OpaquePointer, Int32)?

    init(width: Int32, height: Int32, format: AVPixelFormat, colour: ColorTags) {
        self.width = width; self.height = height; self.format = format; self.colour = colour
    }

    deinit {
        if let c = fromFloat { sws_freeContext(c) }
        if let (c, _) = fromNative { sws_freeContext(c) }
    }

    private func configure(_ ctx: OpaquePointer, source: AVPixelFormat) {
        let matrix = effectiveMatrix(colour, width: Int(width), height: Int(height))
        let coefficients = sws_getCoefficients(matrix)
        sws_setColorspaceDetails(ctx, coefficients, isFullRange(colour, pixelFormat: source) ? 1 : 0,
                                 coefficients, isFullRange(colour, pixelFormat: format) ? 1 : 0, 0, 1 << 16, 1 << 16)
    }

    private func newFrame() throws -> UnsafeMutablePointer<AVFrame> {
        let f = av_frame_alloc()!
        f.pointee.width = width; f.pointee.height = height; f.pointee.format = format.rawValue
        guard av_frame_get_buffer(f, 64) >= 0 else { var o: UnsafeMutablePointer<AVFrame>? = f; av_frame_free(&o); throw CancellationError() }
        return f
    }

    /// A new encoder-format frame holding `image`; swscale reads the image's planes in place.
    func frame(from image: Image) throws -> UnsafeMutablePointer<AVFrame> {
        let alpha = image.channels >= 4
        if fromFloat == nil || fromFloatAlpha != alpha {
            if let c = fromFloat { sws_freeContext(c) }
            let src = alpha ? AV_PIX_FMT_GBRAPF32LE : AV_PIX_FMT_GBRPF32LE
            fromFloat = makeScaler(width, height, src, width, height, format)
            fromFloatAlpha = alpha
            configure(fromFloat!, source: src)
        }
        let out = try newFrame()
        let n = Int(width) * Int(height)
        image.data.withUnsafeBufferPointer { px in
            let base = UnsafeRawPointer(px.baseAddress!).assumingMemoryBound(to: UInt8.self)
            var src: [UnsafePointer<UInt8>?] = [base + 4 * n, base + 8 * n, base, alpha ? base + 12 * n : nil]
            var strides: [Int32] = [Int32(width) * 4, Int32(width) * 4, Int32(width) * 4, alpha ? Int32(width) * 4 : 0]
            withUnsafePointer(to: &out.pointee.data) { dstData in
                withUnsafePointer(to: &out.pointee.linesize) { dstLines in
                    _ = sws_scale(fromFloat!, &src, &strides, 0, height,
                                  UnsafeRawPointer(dstData).assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self),
                                  UnsafeRawPointer(dstLines).assumingMemoryBound(to: Int32.self))
                }
            }
        }
        return out
    }

    /// A new encoder-format frame from a decoded picture: a reference to it when formats match (bit-exact).
    func frame(from native: UnsafePointer<AVFrame>) throws -> UnsafeMutablePointer<AVFrame> {
        if native.pointee.format == format.rawValue && native.pointee.width == width && native.pointee.height == height {
            return av_frame_clone(native)!
        }
        if fromNative == nil || fromNative!.1 != native.pointee.format {
            if let (c, _) = fromNative { sws_freeContext(c) }
            let src = AVPixelFormat(rawValue: native.pointee.format)
            let c = makeScaler(native.pointee.width, native.pointee.height, src, width, height, format)!
            configure(c, source: src)
            fromNative = (c, native.pointee.format)
        }
        let out = try newFrame()
        scale(fromNative!.0, native, out)
        return out
    }

    private func scale(_ ctx: OpaquePointer, _ src: UnsafePointer<AVFrame>, _ dst: UnsafeMutablePointer<AVFrame>) {
        _ = withUnsafePointer(to: src.pointee.data) { srcData in
            withUnsafePointer(to: src.pointee.linesize) { srcLines in
                withUnsafePointer(to: dst.pointee.data) { dstData in
                    withUnsafePointer(to: dst.pointee.linesize) { dstLines in
                        sws_scale(ctx,
                                  UnsafeRawPointer(srcData).assumingMemoryBound(to: UnsafePointer<UInt8>?.self),
                                  UnsafeRawPointer(srcLines).assumingMemoryBound(to: Int32.self), 0, src.pointee.height,
                                  UnsafeRawPointer(dstData).assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self),
                                  UnsafeRawPointer(dstLines).assumingMemoryBound(to: Int32.self))
                    }
                }
            }
        }
    }
}
