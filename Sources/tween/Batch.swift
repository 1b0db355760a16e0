import ArgumentParser
import Foundation
import Media

/// `tween batch IN_DIR -o OUT_DIR`: converts every video of a folder, mirroring its tree.
struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert every video in a folder, mirroring the folder tree; goes on past bad files.",
        discussion: "Exits 1 if any file failed. --shard I/N takes a stable 1/N of the files (I from 1 to N), chosen by a hash of each file's path, so a job array can split a folder across machines.")

    @Argument(help: ArgumentHelp("Folder of videos.", valueName: "in-dir"))
    var inputFolder: String

    @Option(name: [.short, .long], help: ArgumentHelp("Folder for the outputs (created if needed).", valueName: "out-dir"))
    var output: String

    @Flag(name: .long, help: "Descend into subfolders.")
    var recursive = false

    @Option(name: .long, help: ArgumentHelp("Only files whose name matches this shell pattern (default: common video extensions).", valueName: "pattern"))
    var glob: String?

    @Flag(name: .long, help: "Leave files whose output already exists.")
    var skipExisting = false

    @Option(name: .long, help: ArgumentHelp("Files converted at once.", valueName: "N"))
    var jobs: Int = 1

    @Option(name: .long, help: ArgumentHelp("Process shard I of N (1 ≤ I ≤ N).", valueName: "I/N"))
    var shard: String?

    @Option(name: .long, help: ArgumentHelp("Output container extension (default: the input's).", valueName: "ext"))
    var ext: String?

    @OptionGroup var retime: RetimeOptions
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var processing: ProcessingOptions
    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var outputOptions: OutputOptions

    static let videoExtensions: Set<String> = ["mp4", "mkv", "mov", "webm", "avi", "m4v", "mpg", "mpeg", "ts", "m2ts",
                                               "mts", "wmv", "flv", "gif", "y4m", "ogv", "3gp"]

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        _ = try parsedShard()
    }

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else {
            throw ValidationError("--shard takes I/N with 1 ≤ I ≤ N, for example 2/8")
        }
        return (i, n)
    }

    /// FNV-1a of the relative path: the same split on every machine and every run.
    static func shardOf(_ relative: String, count: Int) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for b in relative.utf8 { h ^= UInt64(b); h = h &* 0x100000001b3 }
        return Int(h % UInt64(count)) + 1
    }

    func listFiles() throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: inputFolder, isDirectory: &isDir), isDir.boolValue else {
            throw MediaError(inputFolder, "no such folder")
        }
        var relative: [String] = []
        if recursive {
            guard let e = FileManager.default.enumerator(atPath: inputFolder) else { throw MediaError(inputFolder, "cannot list the folder") }
            while let rel = e.nextObject() as? String { relative.append(rel) }
        } else {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: inputFolder) else {
                throw MediaError(inputFolder, "cannot list the folder (permission denied)")
            }
            relative = names
        }
        let outAbs = URL(fileURLWithPath: output).standardizedFileURL.path
        return relative.filter { rel in
            let full = (inputFolder as NSString).appendingPathComponent(rel)
            var d: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &d), !d.boolValue else { return false }
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") { return false }
            // Never read back what this batch writes when the output folder is inside the input folder.
            if URL(fileURLWithPath: full).standardizedFileURL.path.hasPrefix(outAbs + "/") { return false }
            if let glob { return fnmatch(glob, name, 0) == 0 }
            return Batch.videoExtensions.contains((name as NSString).pathExtension.lowercased())
        }.sorted()
    }

    func run() throws {
        try processing.model.apply()
        var files = try listFiles()
        if let (i, n) = try parsedShard() { files = files.filter { Batch.shardOf($0, count: n) == i } }
        if !FileManager.default.fileExists(atPath: output) {
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
            catch { throw MediaError(output, "cannot create the output folder") }
            TemporaryOutputs.registerFolderIfEmpty(output)
        }
        let lock = NSLock()
        var converted = 0, skipped = 0, failed = 0
        var results: [ConversionSummary] = []
        var failures: [[String: String]] = []
        let queue = BatchQueue(files)
        let work: () -> Void = {
                while let rel = queue.next() {
                    let input = (inputFolder as NSString).appendingPathComponent(rel)
                    var outRel = rel
                    if let ext { outRel = ((rel as NSString).deletingPathExtension as NSString).appendingPathExtension(ext) ?? rel }
                    let out = (output as NSString).appendingPathComponent(outRel)
                    if skipExisting && FileManager.default.fileExists(atPath: out) {
                        lock.lock(); skipped += 1; lock.unlock()
                        if !outputOptions.quiet { Console.note("\(out): exists, skipped") }
                        continue
                    }
                    do {
                        let dir = (out as NSString).deletingLastPathComponent
                        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                        let job = ConversionJob(input: input, output: out, retime: retime, inputOptions: inputOptions,
                                                processing: processing, encoder: encoder,
                                                overwrite: outputOptions.overwrite, progress: nil)
                        let summary = try job.run()
                        lock.lock(); converted += 1; results.append(summary); lock.unlock()
                        if !outputOptions.quiet { Console.line(summary.humanLine) }
                    } catch {
                        lock.lock(); failed += 1; failures.append(["input": input, "error": "\(error)"]); lock.unlock()
                        Console.error("\(error)")
                    }
                }
        }
        let done = DispatchGroup()
        for _ in 0..<min(jobs, max(1, files.count)) {
            done.enter()
            let t = Thread { work(); done.leave() }
            t.stackSize = 1 << 22
            t.start()
        }
        done.wait()
        if !outputOptions.quiet {
            Console.note("batch: \(converted) converted, \(skipped) skipped, \(failed) failed (of \(files.count))")
        }
        if outputOptions.json {
            struct BatchSummary: Codable {
                var converted: Int, skipped: Int, failed: Int, files: [ConversionSummary], failures: [[String: String]]
            }
            printJSON(BatchSummary(converted: converted, skipped: skipped, failed: failed,
                                   files: results.sorted { $0.input < $1.input }, failures: failures))
        }
        if failed > 0 { throw ExitCode.failure }
    }
}

/// Hands out file names to the workers.
final class BatchQueue: @unchecked Sendable {
    private var items: [String]
    private let lock = NSLock()
    init(_ items: [String]) { self.items = items.reversed() }
    func next() -> String? { lock.lock(); defer { lock.unlock() }; return items.popLast() }
}
