/// "-" as a path names standard input (as an input) or standard output (as an output), as in FFmpeg and most video
/// tools, so that Tween can sit in a pipe between them.
public enum StandardStream {
    public static func isStandard(_ path: String) -> Bool { path == "-" }
}
