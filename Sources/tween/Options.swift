import Foundation
import ArgumentParser
import Frames
import Kernels
import Media
import Models

extension FrameRate: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// The largest --fps, --factor and --slowmo: beyond it no encoder keeps up and a conversion would run for ever.
let maximumRetimeValue = 1000

/// A value that is not a decimal or fraction but reads as a number in exponent notation (1e9): named as out of range
/// when it is, rather than "not a number".
func checkedRetimeValue(_ s: String, _ parse: () throws -> Rational) throws -> Rational {
    let r: Rational
    do { r = try parse() } catch {
        if let d = Double(s.hasSuffix("x") ? String(s.dropLast()) : s), d.isFinite, d > Double(maximumRetimeValue) {
            throw FrameRateError.tooLarge(s, maximum: maximumRetimeValue)
        }
        throw error
    }
    guard r.num > 0 else { throw FrameRateError.notPositive(s) }
    guard r <= Rational(Int64(maximumRetimeValue)) else { throw FrameRateError.tooLarge(s, maximum: maximumRetimeValue) }
    return r
}

func parseRate(_ s: String) throws -> FrameRate { try FrameRate(checkedRetimeValue(s) { try FrameRate(parsing: s).value }) }
func parseFactor(_ s: String) throws -> Rational {
    try checkedRetimeValue(s) { try Rational(parsingDecimalOrFraction: s.hasSuffix("x") ? String(s.dropLast()) : s) }
}

/// How the output is timed: one of --fps, --factor, --slowmo.
struct RetimeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Output frame rate: 60, 59.94 (= 60000/1001), 60000/1001.", valueName: "rate"),
            transform: parseRate)
    var fps: FrameRate?

    @Option(name: .long, help: ArgumentHelp("Output rate as a multiple of the input rate: 2, 4, 2.5. Default 2 when no option is given.",
                                            valueName: "factor"), transform: parseFactor)
    var factor: Rational?

    @Option(name: .long, help: ArgumentHelp("Slow motion: N× the frames at the input's rate, playing N× slower.",
                                            valueName: "N"), transform: parseFactor)
    var slowmo: Rational?

    @Option(name: .long, help: ArgumentHelp("Audio and subtitles: copy (default; in slow motion they are left out, as they would no longer match the picture), stretch (slow motion: audio slowed N× with its pitch kept, subtitles retimed) or drop.",
                                            valueName: "mode"))
    var audio: AudioMode?

    enum AudioMode: String, ExpressibleByArgument, CaseIterable { case copy, stretch, drop }

    /// What the output does with the input's audio and subtitle streams.
    var otherStreams: OtherStreams {
        switch audio {
        case .drop: return .leaveOut
        case .stretch: return slowmo.map { .stretch($0) } ?? .copy
        case .copy, nil: return slowmo == nil ? .copy : .leaveOut
        }
    }

    func validate() throws {
        if [fps != nil, factor != nil, slowmo != nil].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --fps, --factor and --slowmo")
        }
        if let slowmo, slowmo < Rational(1) { throw ValidationError("--slowmo must be at least 1") }
        if slowmo != nil && audio == .copy {
            throw ValidationError("--audio copy with --slowmo would put the sound out of step with the picture; use --audio stretch or drop")
        }
    }

    /// (rate at which the input timeline is sampled, rate stamped on the output).
    func rates(input: Rational) -> (sample: Rational, output: Rational) {
        if let fps { return (fps.value, fps.value) }
        if let slowmo { return (input * slowmo, input) }
        let f = factor ?? Rational(2)
        return (input * f, input * f)
    }
}

struct InputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Video stream to interpolate (index as ffprobe counts). Default: the first.", valueName: "N"))
    var stream: Int?

    @Option(name: .long, help: ArgumentHelp("Frame rate of a PNG-sequence input (default 25).", valueName: "rate"), transform: parseRate)
    var inputFps: FrameRate?
}

/// `--threads`: the engine's worker threads, for every command that runs it.
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Worker threads (default: TWEEN_THREADS or all cores); the results are identical for any N.",
                                            valueName: "N"))
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Sizes the engine's pool before any model runs, at most `ThreadPool.maxThreads`.
    func apply() {
        guard let threads else { return }
        ThreadPool.configure(threads: threads)
        if ThreadPool.shared.threads < threads {
            Console.note("--threads \(threads) is more than four per core (\(ProcessInfo.processInfo.activeProcessorCount) cores); using \(ThreadPool.shared.threads)")
        }
    }
}

/// `--weights-dir`: where converted and trained weights are looked up, for every command that loads a model.
struct WeightsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder of model weights, searched before the shipped ones (default: TWEEN_WEIGHTS or ~/.local/share/tween/models).",
                                            valueName: "dir"))
    var weightsDir: String?

    /// A folder that does not exist is an error rather than a silent fall-back to the default folder and the shipped
    /// weights (a mistyped path would otherwise run another model's weights).
    func apply() throws {
        guard let weightsDir else { return }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: weightsDir, isDirectory: &isFolder) else {
            throw MediaError(weightsDir, "no such folder (--weights-dir)")
        }
        guard isFolder.boolValue else { throw MediaError(weightsDir, "not a folder (--weights-dir)") }
        WeightStore.override = weightsDir
    }
}

/// The method and how it runs, the same for `interpolate`, `batch` and `eval`: --model, --scale, --ensemble,
/// --weights-dir and --threads.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Interpolation method: \(ModelRegistry.names.joined(separator: ", ")) (see `tween models`); eval and compare take a comma-separated list. Default: \(ModelRegistry.defaultPreference.joined(separator: " once installed, else ")).",
                                            valueName: "name"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Flow resolution for RIFE, Super SloMo and DVF: 0.25, 0.5 (4K), 1 or 2; the frame is still made at full resolution.",
                                            valueName: "s"))
    var scale: Float = 1

    @Option(name: .long, help: ArgumentHelp("Run the model on 1, 2 (also with the frames swapped), 4 (also mirrored) or 8 (also upside down) symmetric versions of each gap and average the frames: higher quality, 2×, 4× or 8× the time.",
                                            valueName: "passes"))
    var ensemble: Int = 1

    @OptionGroup var weights: WeightsOptions
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        try threads.validate()
        guard SymmetryEnsemble.passes(count: ensemble) != nil else { throw ValidationError("--ensemble takes 1, 2, 4 or 8") }
        guard [0.25, 0.5, 1, 2].contains(scale) else { throw ValidationError("--scale takes 0.25, 0.5, 1 or 2") }
        for name in modelNames where !ModelRegistry.names.contains(name.lowercased()) {
            throw ValidationError("unknown model '\(name)'; available: \(ModelRegistry.names.joined(separator: ", "))")
        }
    }

    /// `--model a,b,c` as a list (`eval` and `compare` take several; conversions one).
    var modelNames: [String] { model.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? [] }

    /// `--model`'s list, else the default method alone.
    var resolvedModels: [String] { modelNames.isEmpty ? [resolvedModel] : modelNames }

    /// For the commands that run one method.
    func requireOneModel() throws {
        if modelNames.count > 1 { throw ValidationError("--model takes one method here; eval and compare take a comma-separated list") }
    }

    /// Sets the thread count and the weight folder; call before `resolvedModel` and `makeInterpolator`.
    func apply() throws {
        threads.apply()
        try weights.apply()
    }

    /// `--model`, else the default among the installed methods.
    var resolvedModel: String { model ?? WeightStore.defaultModel }

    /// The model with its ensemble and flow scale (`name`: one of a list, else `--model` or the default).
    func makeInterpolator(_ name: String? = nil) throws -> FrameInterpolator {
        let interpolator = try WeightStore.make(name ?? resolvedModel, ensemble: ensemble)
        if let scalable = interpolator as? FlowScalable { scalable.scale = scale }
        return interpolator
    }
}

/// What a conversion does besides the model: scene cuts.
struct ProcessingOptions: ParsableArguments {
    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("scene-cut"),
            help: ArgumentHelp("Scene-cut threshold in percent (scdet score), or 'off'. Across a cut the nearer frame is repeated.",
                               valueName: "threshold|off"))
    var sceneCut: String = "10"

    @Flag(name: .long, help: ArgumentHelp("Drop input frames that repeat the previous one (animation on twos or threes, telecine) and interpolate across the real motion; the output's timing is unchanged."))
    var dedup = false

    @Option(name: .customLong("dedup-threshold"),
            help: ArgumentHelp("With --dedup: the mean luma difference in percent at or below which a frame is a repeat (default 0.5).",
                               valueName: "percent"))
    var dedupThresholdValue: Double?

    func validate() throws {
        try model.requireOneModel()
        _ = try sceneCutThreshold()
        _ = try dedupThreshold()
    }

    /// The duplicate threshold, nil without --dedup.
    func dedupThreshold() throws -> Double? {
        if let v = dedupThresholdValue {
            guard dedup else { throw ValidationError("--dedup-threshold needs --dedup") }
            guard v >= 0, v <= 10 else { throw ValidationError("--dedup-threshold takes a percentage between 0 and 10") }
            return v
        }
        return dedup ? DuplicateDetector().threshold : nil
    }

    func sceneCutThreshold() throws -> Double? {
        if sceneCut.lowercased() == "off" { return nil }
        guard let v = Double(sceneCut), v >= 0, v <= 100 else {
            throw ValidationError("--scene-cut takes a threshold between 0 and 100, or 'off'")
        }
        return v
    }
}

struct EncoderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Video encoder: libx264 (default; libvpx-vp9 for .webm, raw for .y4m), libx265, libsvtav1, libvpx-vp9, ffv1, prores_ks, png.",
                                            valueName: "codec"))
    var codec: String?

    @Option(name: .long, help: ArgumentHelp("Constant rate factor (x264 default 18, x265 20, SVT-AV1 30, VP9 31).", valueName: "n"))
    var crf: Int?

    @Option(name: .long, help: ArgumentHelp("Encoder preset (x264/x265 default medium; SVT-AV1 0-13, default 8).", valueName: "name"))
    var preset: String?

    @Option(name: .customLong("pix-fmt"), help: ArgumentHelp("Output pixel format. Default: the input's where the codec supports it.",
                                                             valueName: "format"))
    var pixFmt: String?

    var settings: EncoderSettings { EncoderSettings(codec: codec, crf: crf, preset: preset, pixelFormat: pixFmt) }

    func validate() throws {
        do { try settings.validate() } catch let e as MediaError { throw ValidationError(e.description) }
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: [.customShort("y"), .long], help: "Replace an existing output.")
    var overwrite = false

    @Flag(name: .long, help: "Print nothing but errors.")
    var quiet = false

    @Flag(name: .long, help: "Print a JSON summary on standard output (on standard error when the video goes there, -o -).")
    var json = false
}
