import ArgumentParser
import Foundation
import Frames
import ImageQuality
import Kernels
import Media
import Models

/// `tween eval DIR --model a,b,c [--sheet FILE.png]`: PSNR and SSIM against ground-truth middle frames, for one
/// method or several side by side, with contact sheets to look at.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score methods on triplets (Middlebury, frame0/1/2, Vimeo-90K or DVF layouts): PSNR, SSIM, seconds per frame.")

    @Argument(help: ArgumentHelp("Folder holding triplets, at any depth.", valueName: "dir"))
    var dataset: String

    @Flag(name: .long, help: "Print one JSON object on standard output.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Write a contact sheet per triplet: the truth, each method's frame, its error map and an enlarged square where the methods differ most. With several triplets, FILE-NAME.png for each.",
                                            valueName: "file.png"))
    var sheet: String?

    @Flag(name: [.customShort("y"), .long], help: "Replace existing contact sheets.")
    var overwrite = false

    @OptionGroup var modelOptions: ModelOptions

    struct Item: Codable { var name: String; var psnr: Double; var ssim: Double }
    struct Report: Codable {
        var dataset: String; var model: String; var ensemble: Int; var count: Int; var psnr: Double; var ssim: Double
        var seconds_per_frame: Double; var items: [Item]
    }
    struct Reports: Codable { var reports: [Report] }

    func validate() throws {
        if let sheet, !sheet.lowercased().hasSuffix(".png") { throw ValidationError("--sheet writes PNG: give a name ending in .png") }
    }

    func run() throws {
        let triplets = try TripletFinder.find(in: dataset)
        try modelOptions.apply()
        let interpolators = try modelOptions.resolvedModels.map { try modelOptions.makeInterpolator($0) }
        let ensemble = modelOptions.ensemble
        var items = [[Item]](repeating: [], count: interpolators.count)
        var seconds = [Double](repeating: 0, count: interpolators.count)
        let sheetPaths = try sheet.map { try Self.sheetPaths($0, for: triplets.map(\.name)) }
        // Time is per synthesised frame after start-up (docs/BENCHMARKS.md): one untimed run first, so first-touch memory
        // and weight preparation are not charged to the first item.
        if let first = triplets.first {
            let a = try PNGFile.read(first.first).image, b = try PNGFile.read(first.last).image
            if a.sameShape(as: b) {
                for interpolator in interpolators { _ = try interpolator.interpolate(FrameWindow(left: rgb(a), right: rgb(b)), at: [0.5]) }
            }
        }
        for (t, tri) in triplets.enumerated() {
            let a = try PNGFile.read(tri.first).image, truth = try PNGFile.read(tri.truth).image
            let b = try PNGFile.read(tri.last).image
            guard a.sameShape(as: b), a.width == truth.width, a.height == truth.height else {
                throw MediaError(tri.truth, "frames of this triplet differ in size")
            }
            var frames: [Image] = []
            for (m, interpolator) in interpolators.enumerated() {
                let start = Date()
                let out = try interpolator.interpolate(FrameWindow(left: rgb(a), right: rgb(b)), at: [0.5])[0]
                seconds[m] += Date().timeIntervalSince(start)
                frames.append(out)
                let item = Item(name: tri.name, psnr: Metrics.psnr(out, rgb(truth)), ssim: Metrics.ssim(out, rgb(truth)))
                items[m].append(item)
                if !json {
                    let label = interpolators.count > 1 ? tri.name + " " + interpolator.info.name : tri.name
                    print(label.padding(toLength: max(24, label.count), withPad: " ", startingAt: 0)
                          + String(format: " %7.2f dB  SSIM %.4f", item.psnr, item.ssim))
                }
            }
            if let sheetPaths {
                let entries = zip(interpolators, frames).map { ContactSheet.Entry(label: $0.info.name, image: $1) }
                let picture = ContactSheet.make(truth: rgb(truth), first: rgb(a), last: rgb(b), methods: entries)
                try PNGFile.writeOutput(picture, to: sheetPaths[t], overwrite: overwrite)
            }
        }
        let n = Double(triplets.count)
        let reports = interpolators.indices.map { m in
            Report(dataset: dataset, model: interpolators[m].info.name, ensemble: ensemble, count: items[m].count,
                   psnr: items[m].map(\.psnr).reduce(0, +) / n, ssim: items[m].map(\.ssim).reduce(0, +) / n,
                   seconds_per_frame: seconds[m] / n, items: items[m])
        }
        if json {
            if reports.count == 1 { printJSON(reports[0]) } else { printJSON(Reports(reports: reports)) }
            return
        }
        for report in reports {
            let name = ensemble > 1 ? "\(report.model) (\(ensemble) passes)" : report.model
            print(String(format: "%@: %@ on %d triplets: PSNR %.2f dB, SSIM %.4f, %.3f s per frame",
                         dataset as NSString, name as NSString, report.count, report.psnr, report.ssim,
                         report.seconds_per_frame))
        }
    }

    /// `file.png` for one triplet; `file-NAME.png` for each of several (NAME with path separators as '-').
    static func sheetPaths(_ file: String, for names: [String]) throws -> [String] {
        guard names.count > 1 else { return [file] }
        let stem = (file as NSString).deletingPathExtension
        let paths = names.map { stem + "-" + $0.replacingOccurrences(of: "/", with: "-") + ".png" }
        guard Set(paths).count == paths.count else { throw MediaError(file, "triplet names collide as sheet names") }
        return paths
    }

    /// Scores are on RGB: drop alpha.
    func rgb(_ im: Image) -> Image {
        im.channels == 3 ? im : Image(width: im.width, height: im.height, channels: 3, data: Array(im.data[0..<(3 * im.planeSize)]))
    }
}
