import ArgumentParser
import Foundation
import Frames
import Interpolation
import Media
import Models

/// The result of one file's conversion, as printed and as JSON.
struct ConversionSummary: Codable {
    var input: String
    var output: String
    var model: String
    var input_fps: String
    var output_fps: String
    var frames_in: Int
    var frames_out: Int64
    var interpolated: Int64
    var passed_through: Int64
    var held: Int64
    var cuts: Int
    var decode_errors: Int
    /// Input frames dropped by --dedup as repeats of the previous one.
    var duplicates_dropped: Int
    var seconds: Double
    var fps: Double
    var notes: [String]
}

/// Everything one conversion needs, shared by the default command and `batch`.
struct ConversionJob {
    var input: String
    var output: String
    var retime: RetimeOptions
    var inputOptions: InputOptions
    var processing: ProcessingOptions
    var encoder: EncoderOptions
    /// The output container when not the extension's (`-f`).
    var container: String? = nil
    var overwrite: Bool
    /// Called with (frames out, expected total) as frames are written.
    var progress: ((Int64, Int64?) -> Void)?

    /// Fails with a one-line MediaError naming the file; never leaves a partial output.
    func run() throws -> ConversionSummary {
        let started = Date()
        try checkPaths()
        let isSequenceInput = isSequence(input)
        var videoReader: VideoReader?
        var sequenceReader: ImageSequenceReader?
        let info: VideoInfo
        if isSequenceInput {
            let r = try ImageSequenceReader(path: input, frameRate: (inputOptions.inputFps ?? (try! FrameRate(Rational(25)))).value)
            sequenceReader = r; info = r.info
        } else {
            let r = try VideoReader(path: input, stream: inputOptions.stream)
            videoReader = r; info = r.info
        }
        let (sampleRate, outputRate) = retime.rates(input: info.frameRate)
        var notes: [String] = []
        let interpolator = try processing.model.makeInterpolator()

        // The output.
        let writer: FrameWriter
        let slowmo = retime.slowmo != nil
        if ImageSequencePath.isSequenceOutput(output) {
            if let container { throw MediaError(output, "is a PNG folder or pattern; -f \(container) applies to a video output") }
            let turns = (4 - info.rotation / 90) % 4
            writer = try PNGSequenceWriter(path: output, bitDepth: info.bitDepth > 8 ? 16 : 8, overwrite: overwrite,
                                           clockwiseQuarterTurns: turns)
            if videoReader != nil { notes.append("a PNG sequence holds only the picture: other streams are not written") }
        } else {
            var settings = encoder.settings
            settings.container = container
            writer = try VideoWriter(path: output, settings: settings, width: info.width, height: info.height,
                                     rate: outputRate, colour: info.colour, source: videoReader,
                                     otherStreams: retime.otherStreams, sourcePixelFormat: info.pixelFormat)
            if slowmo, retime.audio == nil, let r = videoReader, r.hasOtherStreams {
                notes.append("slow motion: audio and subtitles are left out (they would no longer match the picture; --audio stretch slows them too)")
            }
        }
        notes += writer.notes

        let config = PipelineConfig(sampleRate: sampleRate, sceneCutThreshold: try processing.sceneCutThreshold(),
                                    fallbackFrameDuration: info.frameRate.reciprocal)
        let pipeline = InterpolationPipeline(interpolator: interpolator, config: config)
        let expected = info.duration.map { Retimer.outputCount(duration: $0, sampleRate: sampleRate) }
        var started0 = false
        var duplicates = try processing.dedupThreshold().map { DuplicateDetector(threshold: $0) }
        var heldBack: Frame?, dropped = 0
        let summary: PipelineSummary
        do {
            summary = try pipeline.run(
                source: {
                    while true {
                        guard let f = try videoReader?.nextFrame() ?? sequenceReader?.nextFrame() else {
                            // A repeat at the very end is kept (held), so the output lasts as long as the input.
                            defer { heldBack = nil }
                            if heldBack != nil { dropped -= 1 }
                            return heldBack
                        }
                        // Output frame 0 is stamped at the first input frame's time, so copied streams stay in sync.
                        if !started0 { started0 = true; writer.startTime = f.time }
                        if duplicates?.isDuplicate(f.image) == true { heldBack = f; dropped += 1; continue }
                        heldBack = nil
                        return f
                    }
                },
                sink: { frame in try writer.write(frame.image, native: frame.native, index: frame.index) },
                progress: { s in progress?(s.framesOut, expected) })
            // A rate so low that not one output frame falls within the input is not a success (nor an empty file).
            guard summary.framesOut > 0 else {
                throw MediaError(input, summary.framesIn == 0 ? "no video frames could be decoded"
                                 : "no output frames at \(sampleRate.description) fps within the input's \(summary.framesIn) frame(s); raise the rate")
            }
            try writer.finish()
        } catch let e as PipelineError {
            writer.abort()
            throw MediaError(input, e.description)
        } catch {
            writer.abort()
            throw error
        }
        if let expected = info.estimatedFrameCount, videoReader != nil, expected >= 10,
           Double(summary.framesIn + dropped) < 0.9 * Double(expected) {
            notes.append("input ends early: the container announces about \(expected) frames, \(summary.framesIn) decoded (truncated file?)")
        }
        if let r = videoReader, r.decodeErrors > 0 {
            notes.append("\(r.decodeErrors) decode error(s): corrupt data was skipped")
        }
        let seconds = Date().timeIntervalSince(started)
        return ConversionSummary(
            input: input, output: output, model: interpolator.info.name,
            input_fps: info.frameRate.description, output_fps: outputRate.description,
            frames_in: summary.framesIn + dropped, frames_out: summary.framesOut, interpolated: summary.interpolated,
            passed_through: summary.passedThrough, held: summary.held, cuts: summary.cuts,
            decode_errors: videoReader?.decodeErrors ?? 0, duplicates_dropped: dropped, seconds: seconds,
            fps: seconds > 0 ? Double(summary.framesOut) / seconds : 0, notes: notes)
    }

    func isSequence(_ path: String) -> Bool {
        if StandardStream.isStandard(path) { return false }
        if ImageSequencePath.isPattern(path) { return true }
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Never write over an input; refuse an existing output unless asked. ("-" is standard input or output.)
    func checkPaths() throws {
        let fm = FileManager.default
        if !StandardStream.isStandard(input) && !isSequence(input) && !fm.fileExists(atPath: input) { throw MediaError(input, "no such file") }
        if StandardStream.isStandard(input) || StandardStream.isStandard(output) { return }
        let outURL = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath()
        let inURL = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
        if outURL.path == inURL.path || sameFile(input, output) {
            throw MediaError(output, "is the input; choose another output name")
        }
        if !ImageSequencePath.isSequenceOutput(output) && fm.fileExists(atPath: output) && !overwrite {
            throw MediaError(output, "output exists; use -y to overwrite")
        }
    }

    func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}

extension ConversionSummary {
    var humanLine: String {
        let f = String(format: "%.1f", fps), s = String(format: "%.1f", seconds)
        return "\(StandardStream.isStandard(output) ? "standard output" : output): \(frames_in) frames at \(input_fps) → \(frames_out) at \(output_fps) " +
            "(\(interpolated) interpolated, \(passed_through) passed through, \(cuts) scene cut\(cuts == 1 ? "" : "s")" +
            (duplicates_dropped > 0 ? ", \(duplicates_dropped) duplicate\(duplicates_dropped == 1 ? "" : "s") dropped" : "") + ") " +
            "in \(s) s, \(f) fps [\(model)]"
    }
}

/// `toStandardError`: when standard output carries the video.
func printJSON<T: Encodable>(_ value: T, toStandardError: Bool = false) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value), let s = String(data: data, encoding: .utf8) else { return }
    if toStandardError { Console.line(s) } else { print(s) }
}
