import ArgumentParser
import Foundation
import Frames
import ImageQuality
import Media
import Models

/// `tween compare IN -o FILE.png --at TIME --model a,b,c`: the methods' frames for one gap of a real clip, on a
/// contact sheet (no ground truth: the maps show where each method departs from the others).
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a contact sheet of several methods' middle frames for one gap of a video.")

    @Argument(help: ArgumentHelp("Input video.", valueName: "input"))
    var input: String

    @Option(name: [.short, .long], help: ArgumentHelp("Contact sheet to write (.png).", valueName: "file.png"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("The gap holding this time: seconds (12.5) or [h:]m:s (1:02.5). Default: 0, the first gap.",
                                            valueName: "time"), transform: Compare.parseTime)
    var at: Rational = .zero

    @Flag(name: [.customShort("y"), .long], help: "Replace an existing sheet.")
    var overwrite = false

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard output.lowercased().hasSuffix(".png") else { throw ValidationError("the sheet is a PNG: give an output ending in .png") }
    }

    /// Seconds, or minutes and seconds, or hours, minutes and seconds, separated by ':'.
    static func parseTime(_ s: String) throws -> Rational {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { throw ValidationError("--at takes seconds or [h:]m:s, not '\(s)'") }
        var total = Rational.zero
        for (i, part) in parts.enumerated() {
            guard let v = try? Rational(parsingDecimalOrFraction: String(part)), v >= .zero else {
                throw ValidationError("--at takes seconds or [h:]m:s, not '\(s)'")
            }
            total = total + v * Rational([3600, 60, 1][3 - parts.count + i])
        }
        return total
    }

    func run() throws {
        if FileManager.default.fileExists(atPath: output) && !overwrite { throw MediaError(output, "output exists; use -y to overwrite") }
        try modelOptions.apply()
        let interpolators = try modelOptions.resolvedModels.map { try modelOptions.makeInterpolator($0) }

        // The gap: the last frame at or before --at and the one after it, with a frame of context either side.
        let reader = try VideoReader(path: input)
        var frames: [Frame] = []   // …, left, right, after
        var right: Int?
        while let f = try reader.nextFrame() {
            frames.append(f)
            if right == nil, f.time > at, frames.count >= 2 { right = frames.count - 1 }
            if let right, frames.count > right + 1 { break }
            if right == nil && frames.count > 2 { frames.removeFirst() }
        }
        guard let right else {
            let last = frames.last.map { String(format: "%.3f s", $0.time.doubleValue) } ?? "none decoded"
            throw MediaError(input, "no gap holds \(String(format: "%.3f", at.doubleValue)) s (the last frame is at \(last))")
        }
        let (left, next) = (frames[right - 1], frames[right])
        let window = FrameWindow(before: right >= 2 ? [frames[right - 2].image] : [], left: left.image, right: next.image,
                                 after: frames.count > right + 1 ? [frames[right + 1].image] : [])
        let entries = try interpolators.map { ContactSheet.Entry(label: $0.info.name, image: try $0.interpolate(window, at: [0.5])[0]) }
        let sheet = ContactSheet.make(truth: nil, first: left.image, last: next.image, methods: entries)
        try PNGFile.writeOutput(sheet, to: output, overwrite: overwrite)
        Console.line(String(format: "%@: the gap %.3f–%.3f s, %@", output as NSString, left.time.doubleValue,
                            next.time.doubleValue, entries.map(\.label).joined(separator: ", ") as NSString))
    }
}
