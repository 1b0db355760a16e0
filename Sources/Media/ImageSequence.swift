import Foundation
import Frames

/// Recognises image-sequence paths: a folder, or a printf pattern such as `frames/%06d.png`.
public enum ImageSequencePath {
    public static func isPattern(_ path: String) -> Bool {
        path.range(of: #"%0?\d*d"#, options: .regularExpression) != nil
    }

    /// An output path that means "a PNG sequence": a pattern, an existing folder, or a path ending in `/`.
    public static func isSequenceOutput(_ path: String) -> Bool {
        if StandardStream.isStandard(path) { return false }
        if isPattern(path) { return true }
        if path.hasSuffix("/") { return true }
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The output name a partial file `.NAME.PID.tween-partial` stands for (nil for other files).
    static func stalePartialTarget(_ entry: String) -> String? {
        guard entry.hasPrefix("."), entry.hasSuffix(".tween-partial") else { return nil }
        let body = entry.dropFirst().dropLast(".tween-partial".count)
        guard let dot = body.lastIndex(of: "."), Int32(body[body.index(after: dot)...]) != nil else { return nil }
        return String(body[..<dot])
    }

    /// Whether a file name is one of the names a pattern's file part formats (`frame_%05d.png`: `frame_00007.png`).
    static func matches(pattern: String, _ name: String) -> Bool {
        guard let r = pattern.range(of: #"%0?\d*d"#, options: .regularExpression) else { return pattern == name }
        let prefix = String(pattern[..<r.lowerBound]), suffix = String(pattern[r.upperBound...])
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return false }
        return name.dropFirst(prefix.count).dropLast(suffix.count).allSatisfy { $0 == " " || $0.isASCII && $0.isNumber }
    }

    /// `frame_%05d.png` with 7 → `frame_00007.png`.
    public static func format(_ pattern: String, _ number: Int) -> String {
        guard let r = pattern.range(of: #"%0?\d*d"#, options: .regularExpression) else { return pattern }
        let spec = String(pattern[r])
        let width = Int(spec.dropFirst().dropLast()) ?? 0
        let zeroPad = spec.hasPrefix("%0")
        var digits = String(number)
        if digits.count < width { digits = String(repeating: zeroPad ? "0" : " ", count: width - digits.count) + digits }
        return pattern.replacingCharacters(in: r, with: digits)
    }

    /// Natural order: `f2.png` before `f10.png`.
    public static func naturalLess(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric, .caseInsensitive]) == .orderedAscending
    }

    /// The PNG files a folder or pattern names, in order.
    public static func files(_ path: String) throws -> [String] {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
                throw MediaError(path, "cannot list the folder (permission denied)")
            }
            return names.filter { $0.lowercased().hasSuffix(".png") && !$0.hasPrefix(".") }
                .sorted(by: naturalLess).map { (path as NSString).appendingPathComponent($0) }
        }
        guard isPattern(path) else { throw MediaError(path, "no such file or folder") }
        // Like ffmpeg's image2 demuxer: the first number among 0…4 that exists, then consecutive numbers.
        guard let start = (0...4).first(where: { FileManager.default.fileExists(atPath: format(path, $0)) }) else {
            throw MediaError(path, "no file matches this pattern")
        }
        var out: [String] = []
        var n = start
        while FileManager.default.fileExists(atPath: format(path, n)) { out.append(format(path, n)); n += 1 }
        return out
    }
}

/// Reads a PNG sequence as frames timed at a given rate.
public final class ImageSequenceReader {
    public let info: VideoInfo
    public let files: [String]
    private var next = 0
    private let rate: Rational

    public init(path: String, frameRate: Rational) throws {
        files = try ImageSequencePath.files(path)
        guard !files.isEmpty else { throw MediaError(path, "the folder has no PNG files") }
        rate = frameRate
        let first = try PNGFile.read(files[0])
        let w = first.image.width, h = first.image.height
        info = VideoInfo(path: path, streamIndex: 0, codec: "png", width: w, height: h,
                         pixelFormat: first.hasAlpha ? (first.bitDepth == 16 ? "rgba64le" : "rgba")
                                                     : (first.bitDepth == 16 ? "rgb48le" : "rgb24"),
                         bitDepth: first.bitDepth, hasAlpha: first.hasAlpha, frameRate: frameRate,
                         timeBase: frameRate.reciprocal, colour: .unspecified, rotation: 0,
                         estimatedFrameCount: Int64(files.count), duration: Rational(Int64(files.count)) / frameRate)
    }

    public func nextFrame() throws -> Frame? {
        guard next < files.count else { return nil }
        let file = files[next]
        let decoded = try PNGFile.read(file)
        let im = decoded.image
        guard im.width == info.width, im.height == info.height else {
            throw MediaError(file, "is \(im.width)×\(im.height) but the sequence is \(info.width)×\(info.height)")
        }
        let frame = Frame(image: im.channels == 4 && !info.hasAlpha ? Image(width: im.width, height: im.height,
                                  channels: 3, data: Array(im.data[0..<(3 * im.planeSize)])) : im,
                          time: Rational(Int64(next)) / rate, duration: rate.reciprocal)
        next += 1
        return frame
    }
}

/// Writes frames as numbered PNGs into a folder (`000001.png`, …) or by a printf pattern, numbered from 1.
/// Each file is written under a hidden name and all are renamed when the sequence is complete.
public final class PNGSequenceWriter: FrameWriter {
    public let path: String
    public let bitDepth: Int
    public private(set) var notes: [String] = []
    public var startTime: Rational = .zero
    private let pattern: String
    private var createdFolder: String?
    private var written: [(partial: String, final: String)] = []
    private let quarterTurns: Int

    public init(path: String, bitDepth: Int, overwrite: Bool, clockwiseQuarterTurns: Int = 0) throws {
        self.path = path; self.bitDepth = bitDepth; quarterTurns = clockwiseQuarterTurns
        if ImageSequencePath.isPattern(path) {
            pattern = path
            try TemporaryOutputs.checkWritableFolder(for: path)
            if !overwrite, FileManager.default.fileExists(atPath: ImageSequencePath.format(path, 1)) {
                throw MediaError(path, "output exists (\(ImageSequencePath.format(path, 1))); use -y to overwrite")
            }
            let url = URL(fileURLWithPath: path)
            let folder = url.deletingLastPathComponent().path
            if let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
                for name in Set(names.compactMap { ImageSequencePath.stalePartialTarget($0) }) where ImageSequencePath.matches(pattern: url.lastPathComponent, name) {
                    TemporaryOutputs.removeStalePartials(in: folder, name: name)
                }
            }
        } else {
            let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
                guard isDir.boolValue else { throw MediaError(path, "exists and is not a folder") }
                let pngs = (try? FileManager.default.contentsOfDirectory(atPath: folder))?
                    .filter { $0.lowercased().hasSuffix(".png") } ?? []
                if !overwrite && !pngs.isEmpty {
                    throw MediaError(path, "output folder already holds PNG files; use -y to overwrite")
                }
                guard FileManager.default.isWritableFile(atPath: folder) else {
                    throw MediaError(path, "output folder is not writable")
                }
                TemporaryOutputs.removeStalePartials(in: folder, name: nil)
            } else {
                try TemporaryOutputs.checkWritableFolder(for: folder)
                do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
                catch { throw MediaError(path, "cannot create the output folder") }
                createdFolder = folder
                TemporaryOutputs.register(folder)
            }
            pattern = (folder as NSString).appendingPathComponent("%06d.png")
        }
    }

    public func write(_ image: Image, native: AnyObject?, index: Int64) throws {
        let final = ImageSequencePath.format(pattern, Int(index) + 1)
        let partial = TemporaryOutputs.partialName(for: final)
        TemporaryOutputs.register(partial)
        written.append((partial, final))
        try PNGFile.write(quarterTurns == 0 ? image : image.rotatedClockwise(quarterTurns: quarterTurns),
                          to: partial, bitDepth: bitDepth)
    }

    public func finish() throws {
        for (partial, final) in written {
            if rename(partial, final) != 0 {
                throw MediaError(final, "cannot move the finished frame into place (\(String(cString: strerror(errno))))")
            }
            TemporaryOutputs.unregister(partial)
        }
        if let createdFolder { TemporaryOutputs.unregister(createdFolder) }
        removeOlderFrames(keeping: Set(written.map(\.final)))
        written = []
    }

    /// With -y over an existing sequence: once the new one is complete, the old frames it did not replace go, so the
    /// folder or pattern never reads as a mix of two runs: every other visible PNG of an output folder, every other
    /// file a pattern names.
    private func removeOlderFrames(keeping new: Set<String>) {
        let folder = (pattern as NSString).deletingLastPathComponent
        let filePattern = (pattern as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        for name in names where !name.hasPrefix(".") {
            let file = folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
            let old = path == pattern ? ImageSequencePath.matches(pattern: filePattern, name) : name.lowercased().hasSuffix(".png")
            if old && !new.contains(file) { try? FileManager.default.removeItem(atPath: file) }
        }
    }

    public func abort() {
        for (partial, _) in written {
            try? FileManager.default.removeItem(atPath: partial); TemporaryOutputs.unregister(partial)
        }
        written = []
        if let createdFolder { try? FileManager.default.removeItem(atPath: createdFolder); TemporaryOutputs.unregister(createdFolder) }
    }
}
