import CFFmpeg
import Foundation

/// A failure that names the file and the problem in one line, as the CLI prints it.
public struct MediaError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public init(_ path: String, _ problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// FFmpeg's own message for an error code.
func ffmpegMessage(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buffer, buffer.count)
    return String(cString: buffer)
}

/// Silences FFmpeg's own logging: every problem is reported once, by us, in one line.
public enum FFmpegLog {
    public static func quiet() { av_log_set_level(AV_LOG_QUIET) }
}
