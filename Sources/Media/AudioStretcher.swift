import CFFmpeg
import Foundation
import Frames

/// Slow motion with sound: decodes one audio stream, slows it by the slow-motion factor with its pitch kept (FFmpeg's
/// `rubberband` filter where this FFmpeg has it, else a chain of `atempo` filters, each within atempo's 0.5…2) and
/// encodes it for the output container. The output holds exactly factor × the input's samples (the filters' last
/// few milliseconds are padded with silence or cut), so the sound ends with the slowed picture.
final class AudioStretcher {
    /// Which filter stretched the sound, for the summary's note.
    let method: String
    let outputStream: UnsafeMutablePointer<AVStream>
    private let factor: Rational
    private let inputTimeBase: AVRational
    /// The video's first frame in the input and in the output: input time t goes to output + (t − input) · factor.
    /// Set before the first packet.
    var origin: (input: Rational, output: Rational) = (.zero, .zero)
    private var decoder: UnsafeMutablePointer<AVCodecContext>?
    private var encoder: UnsafeMutablePointer<AVCodecContext>?
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private let source: UnsafeMutablePointer<AVFilterContext>
    private let sink: UnsafeMutablePointer<AVFilterContext>
    private let decoded = av_frame_alloc()!, filtered = av_frame_alloc()!
    private let packet = av_packet_alloc()!
    /// The encoder's next pts (samples at the output rate) and how many samples have been decoded.
    private var nextPts: Int64?
    private var samplesIn: Int64 = 0, samplesOut: Int64 = 0
    private let inputRate: Int32
    /// Filtered frames not yet encoded: the last half second, so that the end can be cut to the exact length.
    private var held: [UnsafeMutablePointer<AVFrame>] = []
    private var heldSamples: Int64 = 0
    private let write: (UnsafeMutablePointer<AVPacket>) throws -> Void
    private let name: String

    /// - write: muxes one encoded packet (stream index and time base already the output stream's).
    init(input: UnsafeMutablePointer<AVStream>, factor: Rational,
         output: UnsafeMutablePointer<AVFormatContext>, containerName: String, name: String,
         write: @escaping (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        self.factor = factor; self.write = write; self.name = name
        inputTimeBase = input.pointee.time_base
        let par = input.pointee.codecpar!
        guard let dc = avcodec_find_decoder(par.pointee.codec_id), let dec = avcodec_alloc_context3(dc) else {
            throw MediaError(name, "no decoder for the audio (\(String(cString: avcodec_get_name(par.pointee.codec_id)))) to stretch")
        }
        decoder = dec
        avcodec_parameters_to_context(dec, par)
        dec.pointee.pkt_timebase = input.pointee.time_base
        guard avcodec_open2(dec, dc, nil) >= 0 else { throw MediaError(name, "cannot open the audio decoder") }
        if dec.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
            let channels = dec.pointee.ch_layout.nb_channels
            av_channel_layout_uninit(&dec.pointee.ch_layout)
            av_channel_layout_default(&dec.pointee.ch_layout, channels)
        }
        inputRate = dec.pointee.sample_rate

        // The encoder: the container's usual lossy codec, or FLAC for lossless sound in Matroska.
        let lossless = [AV_CODEC_ID_FLAC, AV_CODEC_ID_ALAC, AV_CODEC_ID_WAVPACK].contains(par.pointee.codec_id)
            || String(cString: avcodec_get_name(par.pointee.codec_id)).hasPrefix("pcm_")
        let encoderName = containerName == "webm" ? "libopus" : (lossless && containerName == "matroska") ? "flac" : "aac"
        guard let ec = avcodec_find_encoder_by_name(encoderName), let enc = avcodec_alloc_context3(ec) else {
            throw MediaError(name, "encoder \(encoderName) is not available in this FFmpeg")
        }
        encoder = enc
        enc.pointee.sample_fmt = tween_codec_sample_fmts(ec)?.pointee ?? dec.pointee.sample_fmt
        var rate = dec.pointee.sample_rate
        if let rates = tween_codec_sample_rates(ec) {
            var p = rates, supported: [Int32] = []
            while p.pointee != 0 { supported.append(p.pointee); p += 1 }
            if !supported.contains(rate) { rate = supported.contains(48000) ? 48000 : supported[0] }
        }
        enc.pointee.sample_rate = rate
        av_channel_layout_copy(&enc.pointee.ch_layout, &dec.pointee.ch_layout)
        enc.pointee.time_base = AVRational(num: 1, den: rate)
        if !lossless { enc.pointee.bit_rate = max(128_000, min(320_000, Int64(par.pointee.bit_rate))) }
        if (output.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 { enc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        let opened = avcodec_open2(enc, ec, nil)
        guard opened >= 0 else { throw MediaError(name, "cannot open the \(encoderName) encoder (\(ffmpegMessage(opened)))") }

        // The filters: abuffer → stretch → aformat (the encoder's samples) → abuffersink (the encoder's frame size).
        graph = avfilter_graph_alloc()
        var layout = [CChar](repeating: 0, count: 256)
        av_channel_layout_describe(&dec.pointee.ch_layout, &layout, layout.count)
        let layoutName = String(cString: layout)
        let sourceArgs = "time_base=1/\(inputRate):sample_rate=\(inputRate):sample_fmt=\(String(cString: av_get_sample_fmt_name(dec.pointee.sample_fmt))):channel_layout=\(layoutName)"
        var src: UnsafeMutablePointer<AVFilterContext>?, snk: UnsafeMutablePointer<AVFilterContext>?
        guard avfilter_graph_create_filter(&src, avfilter_get_by_name("abuffer"), "in", sourceArgs, nil, graph) >= 0, let src,
              avfilter_graph_create_filter(&snk, avfilter_get_by_name("abuffersink"), "out", nil, nil, graph) >= 0, let snk else {
            throw MediaError(name, "cannot set up the audio filters")
        }
        source = src; sink = snk
        let tempo = Double(factor.den) / Double(factor.num)
        let stretch: String
        if avfilter_get_by_name("rubberband") != nil {
            stretch = String(format: "rubberband=tempo=%.9f:pitch=1:pitchq=quality", tempo)
            method = "rubberband"
        } else {
            var left = tempo, parts: [String] = []
            while left < 0.5 { parts.append("atempo=0.5"); left /= 0.5 }
            parts.append(String(format: "atempo=%.9f", left))
            stretch = parts.joined(separator: ",")
            method = "atempo"
        }
        let format = "aformat=sample_fmts=\(String(cString: av_get_sample_fmt_name(enc.pointee.sample_fmt))):sample_rates=\(rate):channel_layouts=\(layoutName)"
        var outputs = avfilter_inout_alloc(), inputs = avfilter_inout_alloc()
        defer { avfilter_inout_free(&outputs); avfilter_inout_free(&inputs) }
        outputs!.pointee.name = av_strdup("in"); outputs!.pointee.filter_ctx = src; outputs!.pointee.pad_idx = 0; outputs!.pointee.next = nil
        inputs!.pointee.name = av_strdup("out"); inputs!.pointee.filter_ctx = snk; inputs!.pointee.pad_idx = 0; inputs!.pointee.next = nil
        guard avfilter_graph_parse_ptr(graph, "\(stretch),\(format)", &inputs, &outputs, nil) >= 0,
              avfilter_graph_config(graph, nil) >= 0 else {
            throw MediaError(name, "cannot set up the audio filters (\(stretch))")
        }
        if enc.pointee.frame_size > 0 && (ec.pointee.capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) == 0 {
            av_buffersink_set_frame_size(snk, UInt32(enc.pointee.frame_size))
        }

        guard let st = avformat_new_stream(output, nil) else { throw MediaError(name, "cannot add the audio stream") }
        avcodec_parameters_from_context(st.pointee.codecpar, enc)
        st.pointee.time_base = enc.pointee.time_base
        st.pointee.disposition = input.pointee.disposition
        outputStream = st
    }

    deinit {
        avcodec_free_context(&decoder); avcodec_free_context(&encoder); avfilter_graph_free(&graph)
        var d: UnsafeMutablePointer<AVFrame>? = decoded, f: UnsafeMutablePointer<AVFrame>? = filtered
        av_frame_free(&d); av_frame_free(&f)
        var p: UnsafeMutablePointer<AVPacket>? = packet; av_packet_free(&p)
        for frame in held { var h: UnsafeMutablePointer<AVFrame>? = frame; av_frame_free(&h) }
    }

    /// Decodes, stretches and encodes one packet of the input stream.
    func send(_ pkt: UnsafeMutablePointer<AVPacket>) throws {
        guard let decoder else { return }
        if avcodec_send_packet(decoder, pkt) < 0 { return }   // a corrupt packet: skipped, as the video's are
        try drainDecoder()
    }

    /// Flushes the decoder, the filters and the encoder, cutting or padding the end to factor × the input's length.
    func finish() throws {
        guard let decoder else { return }
        avcodec_send_packet(decoder, nil)
        try drainDecoder()
        av_buffersrc_add_frame(source, nil)
        try drainFilters()
        let target = (factor * Rational(samplesIn) * Rational(Int64(encoder!.pointee.sample_rate), Int64(inputRate))).rounded
        var total = samplesOut + heldSamples
        // Cut from the end what the filters made beyond the target ...
        while total > target, let last = held.last {
            let excess = total - target
            if Int64(last.pointee.nb_samples) <= excess {
                total -= Int64(last.pointee.nb_samples); heldSamples -= Int64(last.pointee.nb_samples)
                var f: UnsafeMutablePointer<AVFrame>? = held.removeLast(); av_frame_free(&f)
            } else {
                last.pointee.nb_samples -= Int32(excess); heldSamples -= excess; total = target
            }
        }
        for frame in held { try encode(frame) }
        held = []; heldSamples = 0
        // ... or pad with silence what they left short.
        let frameSize = Int64(encoder!.pointee.frame_size > 0 ? encoder!.pointee.frame_size : 1024)
        while samplesOut < target {
            let n = min(frameSize, target - samplesOut)
            let silence = av_frame_alloc()!
            silence.pointee.nb_samples = Int32(n)
            silence.pointee.format = encoder!.pointee.sample_fmt.rawValue
            silence.pointee.sample_rate = encoder!.pointee.sample_rate
            av_channel_layout_copy(&silence.pointee.ch_layout, &encoder!.pointee.ch_layout)
            av_frame_get_buffer(silence, 0)
            av_samples_set_silence(silence.pointee.extended_data, 0, Int32(n), silence.pointee.ch_layout.nb_channels,
                                   encoder!.pointee.sample_fmt)
            try encode(silence)
        }
        try sendToEncoder(nil)
        avcodec_free_context(&self.decoder)
    }

    private func drainDecoder() throws {
        guard let decoder else { return }
        while avcodec_receive_frame(decoder, decoded) >= 0 {
            defer { av_frame_unref(decoded) }
            if nextPts == nil {
                // The first sample's place on the stretched timeline.
                let pts = decoded.pointee.best_effort_timestamp
                let t = pts == tween_nopts() ? origin.input : Rational(pts) * Rational(Int64(inputTimeBase.num), Int64(inputTimeBase.den))
                let stretched = origin.output + (t - origin.input) * factor
                nextPts = (stretched * Rational(Int64(encoder!.pointee.sample_rate))).rounded
            }
            samplesIn += Int64(decoded.pointee.nb_samples)
            decoded.pointee.pts = tween_nopts()   // the filters count samples; times are ours
            guard av_buffersrc_add_frame(source, decoded) >= 0 else { throw MediaError(name, "audio filtering failed") }
            try drainFilters()
        }
    }

    private func drainFilters() throws {
        while av_buffersink_get_frame(sink, filtered) >= 0 {
            let frame = av_frame_clone(filtered)!
            av_frame_unref(filtered)
            held.append(frame); heldSamples += Int64(frame.pointee.nb_samples)
            let keep = Int64(encoder!.pointee.sample_rate) / 2
            while let first = held.first, heldSamples - Int64(first.pointee.nb_samples) >= keep {
                held.removeFirst(); heldSamples -= Int64(first.pointee.nb_samples)
                try encode(first)
            }
        }
    }

    /// Encodes (and frees) one frame of filtered samples.
    private func encode(_ frame: UnsafeMutablePointer<AVFrame>) throws {
        var owned: UnsafeMutablePointer<AVFrame>? = frame
        defer { av_frame_free(&owned) }
        frame.pointee.pts = (nextPts ?? 0) + samplesOut
        samplesOut += Int64(frame.pointee.nb_samples)
        try sendToEncoder(frame)
    }

    private func sendToEncoder(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        guard let encoder else { return }
        let rc = avcodec_send_frame(encoder, frame)
        guard rc >= 0 else { throw MediaError(name, "audio encoding failed (\(ffmpegMessage(rc)))") }
        while true {
            let r = avcodec_receive_packet(encoder, packet)
            if r == tween_averror_eagain() || r == tween_averror_eof() { return }
            guard r >= 0 else { throw MediaError(name, "audio encoding failed (\(ffmpegMessage(r)))") }
            defer { av_packet_unref(packet) }
            av_packet_rescale_ts(packet, encoder.pointee.time_base, outputStream.pointee.time_base)
            packet.pointee.stream_index = outputStream.pointee.index
            try write(packet)
        }
    }
}
