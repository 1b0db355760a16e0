import Foundation

/// Something that receives output frames in order and either completes the output or removes every trace of it.
public protocol FrameWriter: AnyObject {
    func write(_ image: Frames.Image, native: AnyObject?, index: Int64) throws
    func finish() throws
    func abort()
    var notes: [String] { get }
    /// Time of output frame 0 (seconds); set before the first write.
    var startTime: Rational { get set }
}

import Frames

/// Temporary files and folders that must disappear if the process fails or is interrupted.
public enum TemporaryOutputs {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []
    nonisolated(unsafe) private static var foldersIfEmpty: [String] = []

    public static func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    public static func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }
    /// A folder this run created that must go if it is still empty when the run is interrupted (batch output).
    public static func registerFolderIfEmpty(_ path: String) { lock.lock(); foldersIfEmpty.append(path); lock.unlock() }

    /// Removes everything still registered (on Ctrl-C or a fatal error), then the registered folders left empty.
    public static func removeAll() {
        lock.lock(); let all = paths, folders = foldersIfEmpty; paths = []; foldersIfEmpty = []; lock.unlock()
        for p in all { try? FileManager.default.removeItem(atPath: p) }
        for f in folders.reversed() { rmdir(f) }   // rmdir fails, leaving the folder, unless it is empty
    }

    /// Removes the partial files in `folder` left by runs that no longer exist (killed with SIGKILL, or a power
    /// loss): `.NAME.PID.tween-partial` whose process is gone, for NAME = `name`, or any NAME when `name` is nil (a
    /// PNG folder that is itself the output). Partials of live processes, other runs' included, are left alone.
    public static func removeStalePartials(in folder: String, name: String?) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries where entry.hasPrefix(".") && entry.hasSuffix(".tween-partial") {
            let body = entry.dropFirst().dropLast(".tween-partial".count)
            guard let dot = body.lastIndex(of: "."), let pid = Int32(body[body.index(after: dot)...]), pid > 0 else { continue }
            if let name, body[..<dot] != name[...] { continue }
            guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(entry))
        }
    }

    /// A hidden name beside `path` in the same folder, so the final rename is atomic.
    public static func partialName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        return "\(dir)/.\(url.lastPathComponent).\(getpid()).tween-partial"
    }

    /// Checks that the folder of `path` exists and can be written.
    public static func checkWritableFolder(for path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw MediaError(path, "output folder \(dir) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir) else {
            throw MediaError(path, "output folder \(dir) is not writable")
        }
    }
}
