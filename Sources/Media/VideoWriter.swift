import CFFmpeg
import Foundation
import Frames

/// How the video stream is encoded.
public struct EncoderSettings: Sendable {
    /// nil: the output container's default (`defaultCodec(forContainer:)`).
    public var codec: String?
    public var crf: Int?
    public var preset: String?
    public var pixelFormat: String?
    /// The output container by FFmpeg name or alias (`containerAliases`); nil: from the output's extension. Needed
    /// when the output is standard output.
    public var container: String?
    public init(codec: String? = nil, crf: Int? = nil, preset: String? = nil, pixelFormat: String? = nil, container: String? = nil) {
        self.codec = codec; self.crf = crf; self.preset = preset; self.pixelFormat = pixelFormat; self.container = container
    }

    /// The encoder used when none is named: VP9 for WebM (which holds only VP8, VP9 and AV1), raw pictures for
    /// YUV4MPEG2 (the only thing it holds), x264 elsewhere.
    public static func defaultCodec(forContainer name: String) -> String {
        switch name {
        case "webm": return "libvpx-vp9"
        case "yuv4mpegpipe": return "wrapped_avframe"
        default: return "libx264"
        }
    }

    /// Short names people use for FFmpeg's muxers.
    public static let containerAliases = ["y4m": "yuv4mpegpipe", "yuv4mpeg": "yuv4mpegpipe", "mkv": "matroska",
                                          "ts": "mpegts", "m2ts": "mpegts"]

    /// The muxer for `path`: the named container, else the one FFmpeg guesses from the extension.
    public func outputFormat(for path: String) throws -> UnsafePointer<AVOutputFormat> {
        if let container {
            let name = Self.containerAliases[container.lowercased()] ?? container.lowercased()
            guard let f = av_guess_format(name, nil, nil) else {
                throw MediaError(StandardStream.isStandard(path) ? "standard output" : path, "unknown output format '\(container)'; use y4m, mkv, mp4, mov, webm, nut or mpegts")
            }
            return f
        }
        guard !StandardStream.isStandard(path) else {
            throw MediaError("-o -", "standard output needs a container: add -f y4m (or mkv, nut, mpegts, mp4)")
        }
        guard let f = av_guess_format(nil, path, nil) else {
            throw MediaError(path, "unknown output container; use .mp4, .mkv, .mov, .webm or .y4m, or end the path with / for a folder of PNGs")
        }
        return f
    }

    /// These settings with the codec filled in for the container.
    public func resolved(forContainer name: String) -> EncoderSettings {
        var s = self
        s.codec = codec ?? EncoderSettings.defaultCodec(forContainer: name)
        return s
    }

    /// The encoders Tween offers, with their CRF and preset defaults (nil: the codec has no such control).
    public static let codecs: [(name: String, crf: Int?, preset: String?)] = [
        ("libx264", 18, "medium"), ("libx265", 20, "medium"), ("libsvtav1", 30, "8"), ("libvpx-vp9", 31, nil),
        ("ffv1", nil, nil), ("prores_ks", nil, nil), ("png", nil, nil), ("wrapped_avframe", nil, nil),
    ]
    static let aliases = ["x264": "libx264", "h264": "libx264", "x265": "libx265", "hevc": "libx265",
                          "h265": "libx265", "av1": "libsvtav1", "svtav1": "libsvtav1", "vp9": "libvpx-vp9",
                          "prores": "prores_ks", "raw": "wrapped_avframe", "rawvideo": "wrapped_avframe"]

    public static func canonical(_ name: String) -> String { aliases[name.lowercased()] ?? name.lowercased() }

    /// Checks the combination; the message is for a usage error.
    public func validate() throws {
        guard let codec else {   // the container's default; its own checks run once the output is known
            if let crf, crf < 0 || crf > 63 { throw MediaError("--crf \(crf)", "out of range 0…63") }
            return
        }
        let name = EncoderSettings.canonical(codec)
        guard let entry = EncoderSettings.codecs.first(where: { $0.name == name }) else {
            throw MediaError(codec, "unknown codec; choose one of \(EncoderSettings.codecs.map(\.name).joined(separator: ", "))")
        }
        if crf != nil && entry.crf == nil { throw MediaError(codec, "--crf does not apply to \(name) (it is lossless or fixed-quality)") }
        if let crf, crf < 0 || crf > 63 { throw MediaError("--crf \(crf)", "out of range 0…63") }
        if preset != nil && entry.preset == nil { throw MediaError(codec, "--preset does not apply to \(name)") }
    }
}

/// What becomes of the source's audio, subtitle and attachment streams.
public enum OtherStreams: Sendable, Equatable {
    /// Copied as they are (the picture keeps its timing).
    case copy
    /// Not written (slow motion's default: they would no longer match the picture).
    case leaveOut
    /// Slow motion by this factor: audio slowed with its pitch kept and re-encoded, subtitles retimed.
    case stretch(Rational)
}

/// Encodes frames into a container, copying the source's other streams, chapters and metadata.
/// The file is written under a hidden temporary name and renamed when complete.
public final class VideoWriter: FrameWriter {
    /// The output file, or "-" for standard output (written as it goes, not renamed).
    public let path: String
    public private(set) var notes: [String] = []
    let toStandardOutput: Bool
    /// The output as messages name it.
    var displayName: String { toStandardOutput ? "standard output" : path }
    /// FFmpeg's name of the output container (mp4, matroska, yuv4mpegpipe, …).
    let containerName: String
    public let pixelFormat: String

    private let partialPath: String
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var videoStream: UnsafeMutablePointer<AVStream>
    private let converter: EncoderConverter
    private let packet: UnsafeMutablePointer<AVPacket>
    private let rate: Rational
    public var startTime: Rational = .zero { didSet { startTimeKnown = true } }
    private var startTimeKnown = false
    /// Output frame 0's time: `startTime` on the output's frame grid.
    private var outputStart: Rational { Rational((startTime * rate).rounded) / rate }
    /// Packets of stretched streams read before the first video frame fixed `startTime`, the slowed timeline's origin.
    private var pending: [UnsafeMutablePointer<AVPacket>] = []
    /// Copied streams by input index: output index, input time base, and the slow-motion factor of subtitles
    /// retimed around `startTime`.
    private var copyMap: [Int: (out: Int32, inTB: AVRational, retime: Rational?)] = [:]
    /// Audio streams slowed for `--audio stretch`, by input index.
    private var stretchers: [Int: AudioStretcher] = [:]
    /// Input indices of the subtitle streams retimed for slow motion.
    private var retimed: Set<Int> = []
    private let muxLock = NSLock()
    private var done = false
    private var headerWritten = false

    /// - Parameters:
    ///   - rate: output frames per second (the encoder's frame rate).
    ///   - source: the reader whose other streams, metadata and chapters are copied (nil: none).
    ///   - otherStreams: what becomes of the source's audio and subtitle streams.
    public init(path: String, settings: EncoderSettings, width: Int, height: Int, rate: Rational,
                colour: ColorTags, source: VideoReader?, otherStreams: OtherStreams, sourcePixelFormat: String? = nil) throws {
        self.path = path
        toStandardOutput = StandardStream.isStandard(path)
        let displayName = toStandardOutput ? "standard output" : path
        let oformat = try settings.outputFormat(for: path)
        containerName = String(cString: oformat.pointee.name)
        let settings = settings.resolved(forContainer: containerName)
        try settings.validate()
        if !toStandardOutput { try TemporaryOutputs.checkWritableFolder(for: path) }
        FFmpegLog.quiet()
        partialPath = toStandardOutput ? "pipe:1" : TemporaryOutputs.partialName(for: path)
        if !toStandardOutput {
            let url = URL(fileURLWithPath: path)
            TemporaryOutputs.removeStalePartials(in: url.deletingLastPathComponent().path, name: url.lastPathComponent)
        }
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        guard avformat_alloc_output_context2(&ctx, oformat, nil, toStandardOutput ? nil : path) >= 0, let ctx else {
            throw MediaError(displayName, "cannot create the output container")
        }
        format = ctx
        packet = av_packet_alloc()

        // Encoder.
        let name = EncoderSettings.canonical(settings.codec!)
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw MediaError(displayName, "encoder \(name) is not available in this FFmpeg")
        }
        let enc = avcodec_alloc_context3(codec)!
        encoder = enc
        let sourceFormat = (source?.info.pixelFormat ?? sourcePixelFormat).map { av_get_pix_fmt($0) } ?? AV_PIX_FMT_RGB24
        let pix: AVPixelFormat
        if let requested = settings.pixelFormat {
            pix = av_get_pix_fmt(requested)
            guard pix != AV_PIX_FMT_NONE else { throw MediaError(displayName, "unknown pixel format '\(requested)'") }
            if let list = tween_codec_pix_fmts(codec), !VideoWriter.contains(list, pix) {
                throw MediaError(displayName, "\(name) cannot encode pixel format \(requested)")
            }
        } else if containerName == "yuv4mpegpipe" {
            pix = VideoWriter.y4mFormat(source: sourceFormat)
        } else {
            pix = VideoWriter.bestFormat(codec: codec, source: sourceFormat)
        }
        pixelFormat = String(cString: av_get_pix_fmt_name(pix))
        if pixelFormatHasAlpha(sourceFormat) && !pixelFormatHasAlpha(pix) {
            notes.append("the alpha channel is dropped: \(name) in \(pixelFormat) cannot store it (prores_ks, ffv1, png or libvpx-vp9 can)")
        }
        enc.pointee.width = Int32(width); enc.pointee.height = Int32(height)
        guard rate.num <= Int64(Int32.max), rate.den <= Int64(Int32.max) else { throw MediaError(displayName, "frame rate \(rate) too precise") }
        enc.pointee.time_base = AVRational(num: Int32(rate.den), den: Int32(rate.num))
        enc.pointee.framerate = AVRational(num: Int32(rate.num), den: Int32(rate.den))
        enc.pointee.pix_fmt = pix
        enc.pointee.thread_count = 0
        enc.pointee.color_range = AVColorRange(rawValue: UInt32(colour.range))
        enc.pointee.color_primaries = AVColorPrimaries(rawValue: UInt32(colour.primaries))
        enc.pointee.color_trc = AVColorTransferCharacteristic(rawValue: UInt32(colour.transfer))
        enc.pointee.colorspace = AVColorSpace(rawValue: UInt32(colour.matrix))
        if let src = source {
            enc.pointee.sample_aspect_ratio = src.stream.pointee.codecpar.pointee.sample_aspect_ratio
            enc.pointee.chroma_sample_location = src.stream.pointee.codecpar.pointee.chroma_location
        }
        if (oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 { enc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        var options: OpaquePointer?
        let entry = EncoderSettings.codecs.first { $0.name == name }!
        if let crf = settings.crf ?? entry.crf { av_dict_set(&options, "crf", "\(crf)", 0) }
        if let preset = settings.preset ?? entry.preset { av_dict_set(&options, "preset", preset, 0) }
        if name == "libvpx-vp9" { av_dict_set(&options, "b", "0", 0); av_dict_set(&options, "row-mt", "1", 0) }
        // x265 and SVT-AV1 print banners and statistics through their own loggers, not FFmpeg's (which is quiet):
        // keep only their errors, as for every other library here. SVT_LOG set by the user wins.
        if name == "libx265" { av_dict_set(&options, "x265-params", "log-level=error", 0) }
        if name == "libsvtav1" { setenv("SVT_LOG", "1", 0) }
        let opened = avcodec_open2(enc, codec, &options)
        av_dict_free(&options)
        guard opened >= 0 else {
            throw MediaError(displayName, "cannot open the \(name) encoder (\(ffmpegMessage(opened)))")
        }
        converter = EncoderConverter(width: Int32(width), height: Int32(height), format: pix, colour: colour)

        videoStream = avformat_new_stream(ctx, nil)
        avcodec_parameters_from_context(videoStream.pointee.codecpar, enc)
        videoStream.pointee.time_base = enc.pointee.time_base
        videoStream.pointee.avg_frame_rate = enc.pointee.framerate
        self.rate = rate

        if let src = source {
            tween_copy_display_matrix(src.stream, videoStream)
            VideoWriter.copyMetadata(from: src.stream.pointee.metadata, to: &videoStream.pointee.metadata)
            VideoWriter.copyMetadata(from: src.format.pointee.metadata, to: &ctx.pointee.metadata)
            switch otherStreams {
            case .copy:
                tween_copy_chapters(src.format, ctx)
                try addCopiedStreams(from: src, container: oformat, stretch: nil)
            case .stretch(let factor):
                try addCopiedStreams(from: src, container: oformat, stretch: factor)
            case .leaveOut:
                break
            }
        }

        // Open the temporary file (or standard output) and write the header.
        if !toStandardOutput { TemporaryOutputs.register(partialPath) }
        if (oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            let rc = avio_open(&ctx.pointee.pb, partialPath, AVIO_FLAG_WRITE)
            guard rc >= 0 else {
                abort()
                if toStandardOutput { throw MediaError(displayName, "cannot write to standard output (\(ffmpegMessage(rc)))") }
                let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
                throw MediaError(displayName, "cannot create a file in \(dir) (\(ffmpegMessage(rc)))")
            }
        }
        var muxerOptions: OpaquePointer?
        // MP4 and MOV put their index at the end, which a pipe cannot seek back to: fragments instead.
        if toStandardOutput && (containerName == "mp4" || containerName == "mov") {
            av_dict_set(&muxerOptions, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0)
        }
        let rc = avformat_write_header(ctx, &muxerOptions)
        av_dict_free(&muxerOptions)
        guard rc >= 0 else {
            abort()
            // The muxer only says "invalid argument": name the encoder and the container that holds every codec.
            let container = String(cString: oformat.pointee.name)
            let hint = container.hasPrefix("matroska") ? "" : "; .mkv (Matroska) holds every codec"
            throw MediaError(displayName, "the \(container) container cannot hold this stream combination with \(name) video (\(ffmpegMessage(rc)))\(hint)")
        }
        headerWritten = true
        if let src = source, otherStreams != .leaveOut, !copyMap.isEmpty || !stretchers.isEmpty {
            src.packetSink = { [weak self] pkt in try self?.copy(pkt) }
        }
    }

    deinit {
        if !done { abort() }
        var p: UnsafeMutablePointer<AVPacket>? = packet; av_packet_free(&p)
        for held in pending { var h: UnsafeMutablePointer<AVPacket>? = held; av_packet_free(&h) }
    }

    static func contains(_ list: UnsafePointer<AVPixelFormat>, _ f: AVPixelFormat) -> Bool {
        var p = list
        while p.pointee != AV_PIX_FMT_NONE { if p.pointee == f { return true }; p += 1 }
        return false
    }

    /// YUV4MPEG2 holds planar YUV and grey only: the source's format when it is one of those, else 4:4:4 at the
    /// source's depth class (8 or 16 bits).
    static func y4mFormat(source: AVPixelFormat) -> AVPixelFormat {
        let held = ["yuv420p", "yuv422p", "yuv444p", "yuv411p", "yuvj420p", "yuvj422p", "yuvj444p", "gray",
                    "yuv420p10le", "yuv422p10le", "yuv444p10le", "yuv420p12le", "yuv422p12le", "yuv444p12le",
                    "yuv420p16le", "yuv422p16le", "yuv444p16le", "gray16le"]
        if let name = av_get_pix_fmt_name(source).map({ String(cString: $0) }), held.contains(name) { return source }
        let deep = av_pix_fmt_desc_get(source).map { $0.pointee.comp.0.depth > 8 } ?? false
        return av_get_pix_fmt(deep ? "yuv444p16le" : "yuv444p")
    }

    /// The source's format when the encoder takes it, else the one FFmpeg rates least lossy.
    static func bestFormat(codec: UnsafePointer<AVCodec>, source: AVPixelFormat) -> AVPixelFormat {
        guard let list = tween_codec_pix_fmts(codec) else { return source }
        if contains(list, source) { return source }
        var all: [AVPixelFormat] = []
        var p = list
        while p.pointee != AV_PIX_FMT_NONE { all.append(p.pointee); p += 1 }
        // Keep transparency whenever the codec can: FFmpeg's ranking would trade alpha for bit depth.
        if pixelFormatHasAlpha(source) {
            let withAlpha = all.filter(pixelFormatHasAlpha)
            if !withAlpha.isEmpty { all = withAlpha }
        }
        all.append(AV_PIX_FMT_NONE)
        return avcodec_find_best_pix_fmt_of_list(all, source, pixelFormatHasAlpha(source) ? 1 : 0, nil)
    }

    static func copyMetadata(from src: OpaquePointer?, to dst: inout OpaquePointer?) {
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let e = av_dict_get(src, "", entry, AV_DICT_IGNORE_SUFFIX) {
            entry = e
            let key = String(cString: e.pointee.key).lowercased()
            // Stale facts about the old encode are not carried over.
            if ["encoder", "duration", "number_of_frames", "number_of_bytes", "_statistics_tags", "bps",
                "_statistics_writing_app", "_statistics_writing_date_utc", "major_brand", "minor_version",
                "compatible_brands", "creation_time"].contains(key) || key.hasPrefix("number_of") { continue }
            av_dict_set(&dst, e.pointee.key, e.pointee.value, 0)
        }
    }

    private func addCopiedStreams(from src: VideoReader, container: UnsafePointer<AVOutputFormat>, stretch: Rational?) throws {
        let destination = toStandardOutput ? containerName : "." + URL(fileURLWithPath: path).pathExtension
        for i in 0..<Int(src.format.pointee.nb_streams) where i != src.info.streamIndex {
            let st = src.format.pointee.streams[i]!
            let par = st.pointee.codecpar!
            let type = par.pointee.codec_type
            let codecName = String(cString: avcodec_get_name(par.pointee.codec_id))
            let kind = type == AVMEDIA_TYPE_AUDIO ? "audio" : type == AVMEDIA_TYPE_SUBTITLE ? "subtitle"
                : type == AVMEDIA_TYPE_VIDEO ? "video" : type == AVMEDIA_TYPE_ATTACHMENT ? "attachment" : "data"
            if type == AVMEDIA_TYPE_VIDEO {
                notes.append("\(kind) stream #\(i) (\(codecName)) left out: only the interpolated video stream is written")
                continue
            }
            guard type == AVMEDIA_TYPE_AUDIO || type == AVMEDIA_TYPE_SUBTITLE || type == AVMEDIA_TYPE_ATTACHMENT else {
                notes.append("\(kind) stream #\(i) (\(codecName)) left out")
                continue
            }
            if let stretch, type == AVMEDIA_TYPE_AUDIO {
                let stretcher = try AudioStretcher(input: st, factor: stretch, output: format!,
                                                   containerName: containerName, name: displayName) { [unowned self] pkt in
                    muxLock.lock(); defer { muxLock.unlock() }
                    let rc = av_interleaved_write_frame(format, pkt)
                    if rc < 0 { throw MediaError(displayName, "cannot write audio (\(ffmpegMessage(rc)))") }
                }
                VideoWriter.copyMetadata(from: st.pointee.metadata, to: &stretcher.outputStream.pointee.metadata)
                stretchers[i] = stretcher
                let encoded = String(cString: avcodec_get_name(stretcher.outputStream.pointee.codecpar.pointee.codec_id))
                notes.append("audio stream #\(i) (\(codecName)) slowed \(stretch)× with its pitch kept (\(stretcher.method)), encoded as \(encoded)")
                continue
            }
            if avformat_query_codec(container, par.pointee.codec_id, FF_COMPLIANCE_NORMAL) != 1 {
                notes.append("\(kind) stream #\(i) (\(codecName)) cannot be stored in \(destination): left out (use .mkv to keep it)")
                continue
            }
            guard let out = avformat_new_stream(format, nil) else { continue }
            avcodec_parameters_copy(out.pointee.codecpar, par)
            out.pointee.codecpar.pointee.codec_tag = 0
            out.pointee.time_base = st.pointee.time_base
            out.pointee.disposition = st.pointee.disposition
            VideoWriter.copyMetadata(from: st.pointee.metadata, to: &out.pointee.metadata)
            copyMap[i] = (out.pointee.index, st.pointee.time_base, type == AVMEDIA_TYPE_SUBTITLE ? stretch : nil)
            if stretch != nil && type == AVMEDIA_TYPE_SUBTITLE { retimed.insert(i) }
            if stretch != nil && type == AVMEDIA_TYPE_SUBTITLE { notes.append("subtitle stream #\(i) (\(codecName)) retimed \(stretch!)× slower") }
        }
    }

    /// Copies one packet of another stream (called on the decoding thread).
    func copy(_ pkt: UnsafeMutablePointer<AVPacket>) throws {
        let index = Int(pkt.pointee.stream_index)
        if stretchers[index] != nil || retimed.contains(index) {
            guard startTimeKnown else { pending.append(av_packet_clone(pkt)!); return }
            try sendPending()
        }
        try copyNow(pkt)
    }

    /// The packets held back until `startTime` was known, in the order they were read.
    private func sendPending() throws {
        while !pending.isEmpty {
            var first: UnsafeMutablePointer<AVPacket>? = pending.removeFirst()
            defer { av_packet_free(&first) }
            try copyNow(first!)
        }
    }

    private func copyNow(_ pkt: UnsafeMutablePointer<AVPacket>) throws {
        if let stretcher = stretchers[Int(pkt.pointee.stream_index)] {
            guard !done else { return }
            stretcher.origin = (startTime, outputStart)
            try stretcher.send(pkt)
            return
        }
        guard let (out, inTB, retime) = copyMap[Int(pkt.pointee.stream_index)] else { return }
        muxLock.lock(); defer { muxLock.unlock() }
        guard !done, let format else { return }
        let copy = av_packet_clone(pkt)!
        var owned: UnsafeMutablePointer<AVPacket>? = copy
        defer { av_packet_free(&owned) }
        copy.pointee.stream_index = out
        if let factor = retime {
            // Slow motion: t → (output frame 0's time) + (t − input frame 0's time) · factor; durations × factor.
            let tb = Rational(Int64(inTB.num), Int64(inTB.den)), zero = startTime / tb, outZero = outputStart / tb
            func stretched(_ v: Int64) -> Int64 { v == tween_nopts() ? v : (outZero + (Rational(v) - zero) * factor).rounded }
            copy.pointee.pts = stretched(copy.pointee.pts)
            copy.pointee.dts = stretched(copy.pointee.dts)
            copy.pointee.duration = (Rational(copy.pointee.duration) * factor).rounded
        }
        av_packet_rescale_ts(copy, inTB, format.pointee.streams[Int(out)]!.pointee.time_base)
        copy.pointee.pos = -1
        let rc = av_interleaved_write_frame(format, copy)
        if rc < 0 { throw MediaError(displayName, "cannot write a copied packet (\(ffmpegMessage(rc)))") }
    }

    public func write(_ image: Image, native: AnyObject?, index: Int64) throws {
        guard let encoder else { return }
        let frame: UnsafeMutablePointer<AVFrame>
        if let picture = native as? NativePicture {
            frame = try converter.frame(from: picture.frame)
        } else {
            frame = try converter.frame(from: image)
        }
        var owned: UnsafeMutablePointer<AVFrame>? = frame
        defer { av_frame_free(&owned) }
        frame.pointee.pts = (startTime * rate).rounded + index
        frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
        frame.pointee.pkt_duration = 1
        let rc = avcodec_send_frame(encoder, frame)
        guard rc >= 0 else { throw MediaError(displayName, "encoding failed (\(ffmpegMessage(rc)))") }
        try drainEncoder()
    }

    private func drainEncoder() throws {
        guard let encoder, let format else { return }
        while true {
            let rc = avcodec_receive_packet(encoder, packet)
            if rc == tween_averror_eagain() || rc == tween_averror_eof() { return }
            guard rc >= 0 else { throw MediaError(displayName, "encoding failed (\(ffmpegMessage(rc)))") }
            if packet.pointee.duration == 0 { packet.pointee.duration = 1 }
            av_packet_rescale_ts(packet, encoder.pointee.time_base, videoStream.pointee.time_base)
            packet.pointee.stream_index = videoStream.pointee.index
            muxLock.lock()
            let w = av_interleaved_write_frame(format, packet)
            muxLock.unlock()
            guard w >= 0 else { throw MediaError(displayName, "cannot write video (\(ffmpegMessage(w)))") }
        }
    }

    public func finish() throws {
        guard let encoder, let format, !done else { return }
        avcodec_send_frame(encoder, nil)
        try drainEncoder()
        try sendPending()
        for index in stretchers.keys.sorted() { try stretchers[index]!.finish() }
        muxLock.lock()
        let rc = av_write_trailer(format)
        done = true
        muxLock.unlock()
        if (format.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 { avio_closep(&format.pointee.pb) }
        release()
        guard rc >= 0 else {
            if !toStandardOutput { try? FileManager.default.removeItem(atPath: partialPath); TemporaryOutputs.unregister(partialPath) }
            throw MediaError(displayName, "cannot finish the container (\(ffmpegMessage(rc)))")
        }
        if toStandardOutput { return }
        if rename(partialPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partialPath); TemporaryOutputs.unregister(partialPath)
            throw MediaError(displayName, "cannot move the finished output into place (\(reason))")
        }
        TemporaryOutputs.unregister(partialPath)
    }

    public func abort() {
        muxLock.lock()
        done = true
        if let format, (format.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0, format.pointee.pb != nil {
            avio_closep(&format.pointee.pb)
        }
        muxLock.unlock()
        release()
        guard !toStandardOutput else { return }
        try? FileManager.default.removeItem(atPath: partialPath)
        TemporaryOutputs.unregister(partialPath)
    }

    private func release() {
        if encoder != nil { avcodec_free_context(&encoder) }
        if let f = format { avformat_free_context(f); format = nil }
    }
}
