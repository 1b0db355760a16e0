import ArgumentParser
import Foundation
import Media

@main
struct Tween: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tween",
        abstract: "Video frame interpolation: raise a clip's frame rate, make slow motion, convert folders.",
        discussion: """
        Examples:
          tween in.mp4 -o out.mp4 --fps 60
          tween in.mp4 -o slow.mkv --slowmo 4 --codec ffv1
          tween batch clips/ -o out/ --recursive --factor 2
          tween eval triplets/ --model blend

        Exit codes: 0 success, 1 failure, 2 usage error.
        """,
        version: "0.1.0",
        subcommands: [Interpolate.self, Batch.self, Eval.self, Compare.self, ModelsCommand.self, Train.self, Bench.self],
        defaultSubcommand: Interpolate.self
    )

    /// Exit codes: 0 success, 1 failure, 2 usage error (ArgumentParser's own default for usage is 64).
    static func main() {
        // Frames are tens of megabytes: without this glibc maps and unmaps each one, and clearing the fresh pages
        // cost a third of a 1080p conversion. Reusing freed blocks keeps them warm.
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 30)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 1 << 30)
        Interrupts.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure {
                FileHandle.standardError.write((fullMessage(for: error) + "\n").data(using: .utf8)!)
                printJSONError(fullMessage(for: error), status: 2)
                Foundation.exit(2)
            }
            if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
            Console.error("\(error)")
            printJSONError("\(error)", status: 1)
            Foundation.exit(1)
        }
    }
}

/// With --json, a failure still prints one JSON object on standard output, {"error": …, "status": …}, so a script that
/// parses the output gets the reason instead of nothing (the one-line message also goes to standard error as always).
func printJSONError(_ message: String, status: Int) {
    guard CommandLine.arguments.dropFirst().contains("--json") else { return }
    let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
    let object: [String: Any] = ["error": firstLine, "status": status]
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}

/// glibc's mallopt (malloc.h is not part of Swift's Glibc module).
@_silgen_name("mallopt") func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32

/// Removes partial outputs on Ctrl-C, termination and hang-up (a closed terminal), then exits 130 / 143 / 129.
enum Interrupts {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    static func install() {
        for (sig, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                TemporaryOutputs.removeAll()
                Console.error("interrupted; partial output removed")
                Foundation.exit(code)
            }
            source.resume()
            sources.append(source)
        }
    }
}

enum Console {
    static let lock = NSLock()
    static func error(_ message: String) { line("tween: error: \(message)") }
    static func note(_ message: String) { line("tween: \(message)") }
    static func line(_ s: String) {
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
    }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
