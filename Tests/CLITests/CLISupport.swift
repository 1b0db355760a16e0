import Foundation
import XCTest

let repoRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
func fixture(_ name: String) -> String { repoRoot + "/Fixtures/" + name }

/// The `tween` executable built beside this test bundle.
let tweenBinary: String = {
    if let path = ProcessInfo.processInfo.environment["TWEEN_BINARY"] { return path }
    let bundle = Bundle(for: CLIResult.self).bundleURL
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), bundle,
                      bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("tween").path }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
}()

final class CLIResult {
    let status: Int32, stdout: String, stderr: String
    init(status: Int32, stdout: String, stderr: String) { self.status = status; self.stdout = stdout; self.stderr = stderr }
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// Runs `tween` with arguments, without a terminal, and collects its output. The plain progress lines a run prints
/// without a terminal are held off for an hour unless a test sets `TWEEN_PROGRESS_INTERVAL`, so that stderr holds
/// only what the test looks at however slow the debug build is.
@discardableResult
func tween(_ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> CLIResult {
    guard FileManager.default.isExecutableFile(atPath: tweenBinary) else {
        throw NSError(domain: "tween", code: 1, userInfo: [NSLocalizedDescriptionKey: "build tween first: \(tweenBinary) missing"])
    }
    return try runTool(tweenBinary, args, cwd: cwd, environment: ["TWEEN_PROGRESS_INTERVAL": "3600"].merging(environment) { $1 })
}

func runTool(_ exe: String, _ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> CLIResult {
    let p = Process()
    if !environment.isEmpty {
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // Read both pipes while the process runs so that neither fills up.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let reader = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    let errData = errBox.data
    return CLIResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// ffprobe's view of a file: one entry per stream and the format, as JSON.
func probe(_ path: String, countFrames: Bool = false) throws -> [String: Any] {
    var args = ["-v", "error", "-show_streams", "-show_format", "-show_chapters", "-of", "json"]
    if countFrames { args += ["-count_frames"] }
    let r = try runTool("/usr/bin/ffprobe", args + [path])
    guard let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
        throw NSError(domain: "ffprobe", code: 1, userInfo: [NSLocalizedDescriptionKey: "ffprobe failed on \(path): \(r.stderr)"])
    }
    return json
}

func streams(_ info: [String: Any]) -> [[String: Any]] { info["streams"] as? [[String: Any]] ?? [] }

func makeScratchFolder(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "tween-cli-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func listing(_ dir: String) -> [String] {
    ((try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? []).sorted()
}
