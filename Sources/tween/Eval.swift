import ArgumentParser
import Foundation
import Frames
import Interpolation
import Kernels
import Media
import Models

/// `tween eval DIR --model NAME`: PSNR and SSIM against ground-truth middle frames.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a method on triplets (Middlebury, frame0/1/2, Vimeo-90K or DVF layouts): PSNR, SSIM, seconds per frame.")

    @Argument(help: ArgumentHelp("Folder holding triplets, at any depth.", valueName: "dir"))
    var dataset: String

    @Option(name: .long, help: ArgumentHelp("Method to score (default: the conversions' default).", valueName: "name"))
    var model: String?

    @Flag(name: .long, help: "Print one JSON object on standard output.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Folder of converted model weights.", valueName: "dir"))
    var weightsDir: String?

    @Option(name: .long, help: ArgumentHelp("Flow resolution for RIFE and Super SloMo: 1, 0.5, 0.25 (or 2).", valueName: "s"))
    var scale: Float = 1

    @Option(name: .long, help: ArgumentHelp("Symmetric passes averaged per frame: 1, 2 (also with the frames swapped), 4 (also mirrored) or 8 (also upside down).", valueName: "passes"))
    var ensemble: Int = 1

    @Option(name: .long, help: ArgumentHelp("Worker threads for the models (default: TWEEN_THREADS or all cores).", valueName: "N"))
    var threads: Int?

    struct Item: Codable { var name: String; var psnr: Double; var ssim: Double }
    struct Report: Codable {
        var dataset: String; var model: String; var ensemble: Int; var count: Int; var psnr: Double; var ssim: Double
        var seconds_per_frame: Double; var items: [Item]
    }

    func validate() throws {
        try ProcessingOptions.validate(model: model, threads: threads, scale: scale, ensemble: ensemble)
    }

    func run() throws {
        let triplets = try TripletFinder.find(in: dataset)
        if let dir = weightsDir { WeightStore.override = dir }
        if let threads { ThreadPool.configure(threads: threads) }
        let interpolator = try WeightStore.make(model ?? WeightStore.defaultModel, ensemble: ensemble)
        if let scalable = interpolator as? FlowScalable { scalable.scale = scale }
        var items: [Item] = []
        var seconds = 0.0
        // Time is per synthesised frame after start-up (PEERS.md): one untimed run first, so first-touch memory
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

/// `tween models`: what each method supports.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List interpolation methods and what each supports.")

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Entry: Codable { var name: String; var summary: String; var arbitrary_t: Bool; var context_frames: Int; var installed: Bool; var default_model: Bool }

    func run() throws {
        let defaultModel = WeightStore.defaultModel
        let entries = ModelRegistry.all.map {
            Entry(name: $0.name, summary: $0.summary, arbitrary_t: $0.arbitraryT,
                  context_frames: 2 + $0.contextBefore + $0.contextAfter, installed: WeightStore.isInstalled($0.name),
                  default_model: $0.name == defaultModel)
        }
        if json { printJSON(entries); return }
        print("name        any t   frames  installed  summary")
        for e in entries {
            let name = e.name + (e.default_model ? "*" : "")
            print(name.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + (e.arbitrary_t ? "yes" : "½ only").padding(toLength: 8, withPad: " ", startingAt: 0)
                  + "\(e.context_frames)".padding(toLength: 8, withPad: " ", startingAt: 0)
                  + (e.installed ? "yes" : "no").padding(toLength: 11, withPad: " ", startingAt: 0)
                  + e.summary)
        }
        print("* default: the first installed of \(ModelRegistry.defaultPreference.joined(separator: ", "))")
        if entries.contains(where: { !$0.installed && $0.name.hasPrefix("rife") }) {
            print("Missing weights: run Scripts/fetch-rife.sh to install RIFE into \(WeightStore.directory).")
        }
        if entries.contains(where: { !$0.installed && !$0.name.hasPrefix("rife") }) {
            print("Missing weights: Super SloMo and SepConv ship with tween; train them with `tween train` or convert an official checkpoint with Scripts/convert_checkpoint.py into \(WeightStore.directory).")
        }
    }
}
