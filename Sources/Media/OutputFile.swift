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

    public static func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    public static func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }

    /// Removes everything still registered (on Ctrl-C or a fatal error).
    public static func removeAll() {
        lock.lock(); let all = paths; paths = []; lock.unlock()
        for p in all { try? FileManager.default.removeItem(atPath: p) }
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
