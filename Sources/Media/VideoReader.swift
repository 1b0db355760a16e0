import CFFmpeg
import Foundation
import Frames

/// What the decoder knows of the chosen video stream before the first frame.
public struct VideoInfo: Sendable {
    public var path: String
    public var streamIndex: Int
    public var codec: String
    public var width: Int
    public var height: Int
    public var pixelFormat: String
    public var bitDepth: Int
    public var hasAlpha: Bool
    /// The stream's nominal rate (average when known, else the container's guess).
    public var frameRate: Rational
    public var timeBase: Rational
    public var colour: ColorTags
    /// Counter-clockwise display rotation in degrees, as stored in the file (0, 90, 180, 270).
    public var rotation: Int
    /// From the container, when it says; for progress and ETA only.
    public var estimatedFrameCount: Int64?
    public var duration: Rational?
}

/// The decoder's picture, kept for bit-exact pass-through of input frames.
final class NativePicture {
    let frame: UnsafeMutablePointer<AVFrame>
    init(cloning source: UnsafePointer<AVFrame>) { frame = av_frame_clone(source)! }
    deinit { var f: UnsafeMutablePointer<AVFrame>? = frame; av_frame_free(&f) }
}

/// Decodes the frames of one video stream with exact presentation times; hands every other stream's packets to
/// `packetSink` (for stream copy) as they are read.
public final class VideoReader {
    public let info: VideoInfo
    /// Packets of non-video streams, in file order, with the input stream index.
    var packetSink: ((UnsafeMutablePointer<AVPacket>) throws -> Void)?
    public private(set) var decodeErrors = 0
    public private(set) var framesDecoded = 0
    /// Whether the file has streams besides the chosen video stream (audio, subtitles, …).
    public var hasOtherStreams: Bool { format.pointee.nb_streams > 1 }

    let format: UnsafeMutablePointer<AVFormatContext>
    let stream: UnsafeMutablePointer<AVStream>
    private let decoder: UnsafeMutablePointer<AVCodecContext>
    private let packet: UnsafeMutablePointer<AVPacket>
    private let decoded: UnsafeMutablePointer<AVFrame>
    private var scaler: RGBConverter?
    private var draining = false
    private var finished = false
    private var lastTime: Rational?
    /// Undoes the container's rounding of timestamps (nil where the time base holds the frame duration exactly).
    private var grid: TimestampGrid?
    private let path: String

    /// `path` "-" reads standard input (a stream FFmpeg can read without seeking: y4m, mkv, nut, mpegts, …).
    public init(path: String, stream requested: Int? = nil) throws {
        let fromStandardInput = StandardStream.isStandard(path)
        let url = fromStandardInput ? "pipe:0" : path
        let path = fromStandardInput ? "standard input" : path
        self.path = path
        if !fromStandardInput {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw MediaError(path, "no such file") }
            guard !isDir.boolValue else { throw MediaError(path, "is a folder, not a video file") }
            guard FileManager.default.isReadableFile(atPath: path) else { throw MediaError(path, "permission denied") }
        }
        FFmpegLog.quiet()
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        var rc = avformat_open_input(&ctx, url, nil, nil)
        guard rc >= 0, let ctx else {
            if fromStandardInput {
                throw MediaError(path, "not a stream FFmpeg can read (\(ffmpegMessage(rc))); pipe y4m, mkv, nut or mpegts (MP4 needs its index first)")
            }
            if rc != tween_averror_invaliddata() { throw MediaError(path, "cannot open (\(ffmpegMessage(rc)))") }
            if let container = VideoReader.recognisedContainer(path) {
                throw MediaError(path, "truncated or corrupt \(container) data (\(ffmpegMessage(rc)))")
            }
            throw MediaError(path, "not a media file FFmpeg can read")
        }
        var formatOwner: UnsafeMutablePointer<AVFormatContext>? = ctx
        rc = avformat_find_stream_info(ctx, nil)
        guard rc >= 0 else {
            avformat_close_input(&formatOwner)
            throw MediaError(path, "not a media file FFmpeg can read (\(ffmpegMessage(rc)))")
        }
        let count = Int(ctx.pointee.nb_streams)
        let streams = (0..<count).map { ctx.pointee.streams[$0]! }
        let index: Int
        if let requested {
            guard requested >= 0, requested < count else {
                avformat_close_input(&formatOwner)
                throw MediaError(path, "has no stream \(requested) (it has \(count) streams)")
            }
            guard streams[requested].pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO else {
                avformat_close_input(&formatOwner)
                throw MediaError(path, "stream \(requested) is not a video stream")
            }
            index = requested
        } else {
            // The first video stream that is not a cover picture.
            guard let first = streams.firstIndex(where: {
                $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                    && ($0.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) == 0
            }) else {
                avformat_close_input(&formatOwner)
                throw MediaError(path, "has no video stream")
            }
            index = first
        }
        let st = streams[index]
        let par = st.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            var name = String(cString: avcodec_get_name(par.pointee.codec_id))
            if par.pointee.codec_id == AV_CODEC_ID_NONE {
                let tag = par.pointee.codec_tag
                name = "unknown, FourCC \(FourCC.printable(tag))"
            }
            avformat_close_input(&formatOwner)
            throw MediaError(path, "unsupported codec (\(name)): this FFmpeg has no decoder for it")
        }
        guard let dec = avcodec_alloc_context3(codec) else {
            avformat_close_input(&formatOwner); throw MediaError(path, "out of memory")
        }
        var decOwner: UnsafeMutablePointer<AVCodecContext>? = dec
        avcodec_parameters_to_context(dec, par)
        dec.pointee.pkt_timebase = st.pointee.time_base
        dec.pointee.thread_count = 0
        rc = avcodec_open2(dec, codec, nil)
        guard rc >= 0 else {
            avcodec_free_context(&decOwner); avformat_close_input(&formatOwner)
            throw MediaError(path, "cannot open the \(String(cString: codec.pointee.name)) decoder (\(ffmpegMessage(rc)))")
        }
        format = ctx; stream = st; decoder = dec
        packet = av_packet_alloc(); decoded = av_frame_alloc()

        let tb = Rational(Int64(st.pointee.time_base.num), Int64(max(1, st.pointee.time_base.den)))
        let avg = st.pointee.avg_frame_rate, guess = av_guess_frame_rate(ctx, st, nil)
        let rate = avg.num > 0 && avg.den > 0 ? Rational(Int64(avg.num), Int64(avg.den))
            : guess.num > 0 && guess.den > 0 ? Rational(Int64(guess.num), Int64(guess.den)) : Rational(25)
        let pixFmt = AVPixelFormat(rawValue: par.pointee.format)
        let desc = av_pix_fmt_desc_get(pixFmt)
        let depth = desc.map { Int($0.pointee.comp.0.depth) } ?? 8
        let alpha = desc.map { ($0.pointee.flags & UInt64(AV_PIX_FMT_FLAG_ALPHA)) != 0 } ?? false
        var duration: Rational?
        if st.pointee.duration > 0 { duration = Rational(st.pointee.duration) * tb }
        else if ctx.pointee.duration > 0 { duration = Rational(ctx.pointee.duration, Int64(AV_TIME_BASE)) }
        var estimate: Int64? = st.pointee.nb_frames > 0 ? st.pointee.nb_frames : nil
        if estimate == nil, let duration { estimate = (duration * rate).rounded }
        let rotation = Int(tween_stream_rotation(st).rounded())
        info = VideoInfo(
            path: path, streamIndex: index, codec: String(cString: avcodec_get_name(par.pointee.codec_id)),
            width: Int(par.pointee.width), height: Int(par.pointee.height),
            pixelFormat: desc.map { String(cString: $0.pointee.name) } ?? "unknown",
            bitDepth: depth, hasAlpha: alpha, frameRate: rate, timeBase: tb,
            colour: ColorTags(range: Int32(par.pointee.color_range.rawValue),
                              primaries: Int32(par.pointee.color_primaries.rawValue),
                              transfer: Int32(par.pointee.color_trc.rawValue),
                              matrix: Int32(par.pointee.color_space.rawValue)),
            rotation: ((rotation % 360) + 360) % 360,
            estimatedFrameCount: estimate, duration: duration)
        grid = TimestampGrid(rate: rate, tick: tb)
    }

    /// The container FFmpeg recognises from the first bytes, if any: a file it knows the format of but cannot
    /// open is damaged rather than foreign.
    static func recognisedContainer(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var bytes = [UInt8](handle.readData(ofLength: 4096))
        guard bytes.count >= 16 else { return nil }
        let size = bytes.count
        bytes += [UInt8](repeating: 0, count: Int(AVPROBE_PADDING_SIZE))
        return bytes.withUnsafeMutableBufferPointer { buf -> String? in
            var probe = AVProbeData()
            probe.buf = buf.baseAddress
            probe.buf_size = Int32(size)
            var score: Int32 = 0
            return path.withCString { name in
                probe.filename = name
                guard let f = av_probe_input_format2(&probe, 1, &score), score >= AVPROBE_SCORE_EXTENSION + 1 else { return nil }
                return String(cString: f.pointee.long_name ?? f.pointee.name)
            }
        }
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = packet; av_packet_free(&p)
        var f: UnsafeMutablePointer<AVFrame>? = decoded; av_frame_free(&f)
        var d: UnsafeMutablePointer<AVCodecContext>? = decoder; avcodec_free_context(&d)
        var c: UnsafeMutablePointer<AVFormatContext>? = format; avformat_close_input(&c)
    }

    /// The next frame in presentation order, or nil at the end. Corrupt packets are counted and skipped.
    public func nextFrame() throws -> Frame? {
        while !finished {
            let rc = avcodec_receive_frame(decoder, decoded)
            if rc >= 0 {
                defer { av_frame_unref(decoded) }
                if (decoded.pointee.decode_error_flags != 0) || (decoded.pointee.flags & AV_FRAME_FLAG_CORRUPT) != 0 {
                    decodeErrors += 1
                }
                return try makeFrame(decoded)
            }
            if rc == tween_averror_eof() { finished = true; break }
            if rc != tween_averror_eagain() { decodeErrors += 1; if draining { finished = true; break }; continue }
            if draining { finished = true; break }
            try feedDecoder()
        }
        if framesDecoded == 0 {
            throw MediaError(path, decodeErrors > 0 ? "corrupt video data: no frame could be decoded"
                                                    : "the video stream has no frames")
        }
        return nil
    }

    /// Reads packets until one for the decoder is sent (or the end is reached and the decoder is drained).
    private func feedDecoder() throws {
        while true {
            let rc = av_read_frame(format, packet)
            if rc < 0 {
                // End of file, or a read error on truncated data: either way drain what was decoded.
                if rc != tween_averror_eof() { decodeErrors += 1 }
                avcodec_send_packet(decoder, nil)
                draining = true
                return
            }
            defer { av_packet_unref(packet) }
            if Int(packet.pointee.stream_index) == info.streamIndex {
                let sent = avcodec_send_packet(decoder, packet)
                if sent < 0 && sent != tween_averror_eagain() { decodeErrors += 1; continue }
                return
            }
            try packetSink?(packet)
        }
    }

    private func makeFrame(_ f: UnsafeMutablePointer<AVFrame>) throws -> Frame {
        let tb = info.timeBase
        var time: Rational
        let pts = f.pointee.best_effort_timestamp
        if pts != tween_nopts() {
            time = Rational(pts) * tb
            // Back onto the frame grid where the container rounded it, unless that would not move time forward.
            if let snapped = grid?.snap(time), lastTime.map({ $0 < snapped }) ?? true { time = snapped }
        } else {
            time = (lastTime ?? .zero) + (lastTime == nil ? .zero : info.frameRate.reciprocal)
        }
        lastTime = time
        let d = f.pointee.pkt_duration
        let duration: Rational? = d > 0 ? grid.map { $0.snapDuration(Rational(d) * tb) } ?? Rational(d) * tb : nil
        if scaler == nil || !scaler!.matches(f) {
            scaler = try RGBConverter(for: f, colour: info.colour, path: path)
        }
        let image = try scaler!.convert(f)
        framesDecoded += 1
        return Frame(image: image, time: time, duration: duration, native: NativePicture(cloning: f))
    }
}

/// A codec tag as text: printable ASCII as is, other bytes (NULs from a damaged header) as \xNN.
enum FourCC {
    static func printable(_ tag: UInt32) -> String {
        (0..<4).map { i -> String in
            let byte = UInt8((tag >> (8 * UInt32(i))) & 0xff)
            return (0x20...0x7e).contains(byte) ? String(Character(Unicode.Scalar(byte))) : String(format: "\\x%02X", byte)
        }.joined()
    }
}
