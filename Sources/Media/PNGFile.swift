import CPNG
import Foundation
import Frames

/// PNG files through libpng: 8- or 16-bit gray, gray + alpha, RGB or RGBA in; 8- or 16-bit RGB(A) out.
public enum PNGFile {
    /// A decoded PNG: planar float RGB (alpha kept as a fourth plane when present) and the file's bit depth.
    public struct Decoded {
        public var image: Image
        public var bitDepth: Int
        public var hasAlpha: Bool
    }

    public static func read(_ path: String) throws -> Decoded {
        guard FileManager.default.fileExists(atPath: path) else { throw MediaError(path, "no such file") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw MediaError(path, "permission denied") }
        var png = tween_png_image()
        guard tween_png_read(path, &png) == 0 else {
            let message = withUnsafeBytes(of: &png.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            throw MediaError(path, message.hasPrefix("not a PNG") ? "not a PNG image" : "corrupt PNG (\(message))")
        }
        defer { tween_png_free(&png) }
        let w = Int(png.width), h = Int(png.height), inChannels = Int(png.channels), depth = Int(png.bitDepth)
        let hasAlpha = inChannels == 2 || inChannels == 4
        let outChannels = hasAlpha ? 4 : 3
        var data = [Float](repeating: 0, count: w * h * outChannels)
        let n = w * h
        // Colour source plane for each output channel: gray replicates into R, G and B.
        let sourceChannel: [Int] = inChannels <= 2 ? [0, 0, 0, 1] : [0, 1, 2, 3]
        data.withUnsafeMutableBufferPointer { out in
            if depth == 16 {
                let px = UnsafeRawPointer(png.pixels!).assumingMemoryBound(to: UInt16.self)
                let scale = 1 / Float(65535)
                for c in 0..<outChannels {
                    let s = sourceChannel[c]
                    for i in 0..<n { out[c * n + i] = Float(px[i * inChannels + s]) * scale }
                }
            } else {
                let px = png.pixels!
                let scale = 1 / Float(255)
                for c in 0..<outChannels {
                    let s = sourceChannel[c]
                    for i in 0..<n { out[c * n + i] = Float(px[i * inChannels + s]) * scale }
                }
            }
        }
        return Decoded(image: Image(width: w, height: h, channels: outChannels, data: data), bitDepth: depth,
                       hasAlpha: hasAlpha)
    }

    /// Writes the image (3 or 4 channels) at 8 or 16 bits, rounding to nearest.
    public static func write(_ image: Image, to path: String, bitDepth: Int = 8, compression: Int = 3) throws {
        precondition(bitDepth == 8 || bitDepth == 16)
        let w = image.width, h = image.height, ch = min(4, image.channels), n = image.planeSize
        var message = [CChar](repeating: 0, count: 256)
        let result: Int32
        if bitDepth == 16 {
            var px = [UInt16](repeating: 0, count: n * ch)
            for c in 0..<ch { for i in 0..<n { px[i * ch + c] = quantise(image.data[c * n + i], 65535) } }
            result = px.withUnsafeBytes {
                tween_png_write(path, $0.bindMemory(to: UInt8.self).baseAddress, UInt32(w), UInt32(h), UInt32(ch), 16,
                                Int32(compression), &message)
            }
        } else {
            var px = [UInt8](repeating: 0, count: n * ch)
            for c in 0..<ch { for i in 0..<n { px[i * ch + c] = UInt8(quantise(image.data[c * n + i], 255)) } }
            result = tween_png_write(path, px, UInt32(w), UInt32(h), UInt32(ch), 8, Int32(compression), &message)
        }
        if result != 0 { throw MediaError(path, "cannot write PNG: \(String(cString: message))") }
    }

    /// Writes an 8-bit picture as an output: refused if `path` exists unless `overwrite`, written under a hidden
    /// temporary name and renamed when complete.
    public static func writeOutput(_ image: Image, to path: String, overwrite: Bool) throws {
        if FileManager.default.fileExists(atPath: path) && !overwrite { throw MediaError(path, "output exists; use -y to overwrite") }
        try TemporaryOutputs.checkWritableFolder(for: path)
        let partial = TemporaryOutputs.partialName(for: path)
        TemporaryOutputs.register(partial)
        defer { TemporaryOutputs.unregister(partial) }
        do {
            try write(image, to: partial)
            guard rename(partial, path) == 0 else { throw MediaError(path, "cannot move the finished output into place (\(String(cString: strerror(errno))))") }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    @inline(__always) static func quantise(_ v: Float, _ peak: Float) -> UInt16 {
        UInt16((max(0, min(1, v)) * peak).rounded())
    }
}
