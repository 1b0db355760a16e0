import ArgumentParser
import Foundation
import Media

/// `tween INPUT -o OUTPUT [--fps R | --factor F | --slowmo N]`: the default command.
struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Convert one video or PNG sequence (the default command).")

    @Argument(help: ArgumentHelp("Input video, PNG folder or pattern such as frames/%06d.png; - reads standard input (y4m, mkv, nut, mpegts).", valueName: "input"))
    var input: String

    @Option(name: [.short, .long], help: ArgumentHelp("Output file (.mp4 .mkv .mov .webm .y4m), folder (existing, or a path ending in /) or PNG pattern; - writes standard output (with -f).", valueName: "output"))
    var output: String

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Output container: y4m, mkv, mp4, mov, webm, nut, mpegts or another FFmpeg muxer. Default: from the output's extension; needed with -o - (standard output).",
                                                                 valueName: "format"))
    var format: String?

    @OptionGroup var retime: RetimeOptions
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var processing: ProcessingOptions
    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
        try processing.model.apply()
        let progress = ProgressLine(enabled: !outputOptions.quiet, terminal: Console.stderrIsTerminal)
        let job = ConversionJob(input: input, output: output, retime: retime, inputOptions: inputOptions,
                                processing: processing, encoder: encoder, container: format, overwrite: outputOptions.overwrite,
                                progress: { done, total in progress.update(done: done, total: total) })
        let summary = try job.run()
        progress.clear()
        if !outputOptions.quiet {
            for note in summary.notes { Console.note(note) }
            Console.line(summary.humanLine)
        }
        if outputOptions.json { printJSON(summary, toStandardError: StandardStream.isStandard(output)) }
    }
}

/// A progress line on a terminal: frames done / total, fps, ETA; redrawn at most ten times a second.
/// Progress on standard error: one line redrawn ten times a second on a terminal; into a log or a pipe, where
/// redrawing would pile up control characters, a plain line every `plainInterval` seconds instead.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool, terminal: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let lock = NSLock()
    static let plainInterval: TimeInterval = {
        ProcessInfo.processInfo.environment["TWEEN_PROGRESS_INTERVAL"].flatMap(TimeInterval.init) ?? 10
    }()

    init(enabled: Bool, terminal: Bool = true) {
        self.enabled = enabled; self.terminal = terminal
        if enabled && !terminal { lastDraw = start }   // the first plain line after one interval, not at frame 1
    }

    func update(done: Int64, total: Int64?) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= (terminal ? 0.1 : Self.plainInterval) else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let fps = elapsed > 0 ? Double(done) / elapsed : 0
        var s = "frame \(done)"
        if let total, total > 0 {
            s += "/\(total) (\(min(100, Int(Double(done) * 100 / Double(total))))%)"
        }
        s += String(format: "  %.1f fps", fps)
        if let total, fps > 0, total > done {
            let eta = Int(Double(total - done) / fps)
            s += String(format: "  ETA %d:%02d", eta / 60, eta % 60)
        }
        FileHandle.standardError.write((terminal ? "\r\u{1B}[K\(s)" : "tween: \(s)\n").data(using: .utf8)!)
    }

    func clear() {
        guard enabled, terminal else { return }
        FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
    }
}
