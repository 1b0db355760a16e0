import ArgumentParser
import Foundation
import Frames
import ImageQuality
import Kernels
import Media
import Models

/// `tween eval DIR --model NAME`: PSNR and SSIM against ground-truth middle frames.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a method on triplets (Middlebury, frame0/1/2, Vimeo-90K or DVF layouts): PSNR, SSIM, seconds per frame.")

    @Argument(help: ArgumentHelp("Folder holding triplets, at any depth.", valueName: "dir"))
    var dataset: String

    @Flag(name: .long, help: "Print one JSON object on standard output.")
    var json = false

    @OptionGroup var modelOptions: ModelOptions

    struct Item: Codable { var name: String; var psnr: Double; var ssim: Double }
    struct Report: Codable {
        var dataset: String; var model: String; var ensemble: Int; var count: Int; var psnr: Double; var ssim: Double
        var seconds_per_frame: Double; var items: [Item]
    }

    func run() throws {
        let triplets = try TripletFinder.find(in: dataset)
        try modelOptions.apply()
        let interpolator = try modelOptions.makeInterpolator()
        let ensemble = modelOptions.ensemble
        var items: [Item] = []
        var seconds = 0.0
        // Time is per synthesised frame after start-up (docs/BENCHMARKS.md): one untimed run first, so first-touch memory
        // and weight preparation are not charged to the first item.
        if let first = triplets.first {
            let a = try PNGFile.read(first.first).image, b = try PNGFile.read(first.last).image
            if a.sameShape(as: b) { _ = try interpolator.interpolate(FrameWindow(left: rgb(a), right: rgb(b)), at: [0.5]) }
        }
        for tri in triplets {
            let a = try PNGFile.read(tri.first).image, truth = try PNGFile.read(tri.truth).image
            let b = try PNGFile.read(tri.last).image
            guard a.sameShape(as: b), a.width == truth.width, a.height == truth.height else {
                throw MediaError(tri.truth, "frames of this triplet differ in size")
            }
            let start = Date()
            let out = try interpolator.interpolate(FrameWindow(left: rgb(a), right: rgb(b)), at: [0.5])[0]
            seconds += Date().timeIntervalSince(start)
            let item = Item(name: tri.name, psnr: Metrics.psnr(out, rgb(truth)), ssim: Metrics.ssim(out, rgb(truth)))
            items.append(item)
            if !json {
                print(tri.name.padding(toLength: max(24, tri.name.count), withPad: " ", startingAt: 0)
                      + String(format: " %7.2f dB  SSIM %.4f", item.psnr, item.ssim))
            }
        }
        let n = Double(items.count)
        let report = Report(dataset: dataset, model: interpolator.info.name, ensemble: ensemble, count: items.count,
                            psnr: items.map(\.psnr).reduce(0, +) / n, ssim: items.map(\.ssim).reduce(0, +) / n,
                            seconds_per_frame: seconds / n, items: items)
        if json { printJSON(report) } else {
            let name = ensemble > 1 ? "\(report.model) (\(ensemble) passes)" : report.model
            print(String(format: "%@: %@ on %d triplets: PSNR %.2f dB, SSIM %.4f, %.3f s per frame",
                         dataset as NSString, name as NSString, report.count, report.psnr, report.ssim,
                         report.seconds_per_frame))
        }
    }

    /// Scores are on RGB: drop alpha.
    func rgb(_ im: Image) -> Image {
        im.channels == 3 ? im : Image(width: im.width, height: im.height, channels: 3, data: Array(im.data[0..<(3 * im.planeSize)]))
    }
}
