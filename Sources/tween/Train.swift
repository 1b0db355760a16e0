import ArgumentParser
import Foundation
import Frames
import Kernels
import Media
import Models
import NN
import Tensor
import Training

/// `tween train`: runs a training recipe (or a one-stage run of a model's defaults) on this machine, resumably.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on videos and photos from a recipe (checkpointed, resumable, deterministic).",
        discussion: """
        Recipes of the shipped weights: runs/NAME/recipe.json (docs/TRAINING.md); a weight file's `recipe` metadata \
        holds the recipe that made it. Example:
          Scripts/fetch-training-media.sh ~/tween-media
          tween train --recipe runs/dvf/recipe.json --data ~/tween-media --out runs/dvf/dvf.safetensors
        """)

    @Option(name: .long, help: ArgumentHelp("Recipe file (JSON: model, architecture, teacher, stages).", valueName: "file"))
    var recipe: String?

    @Option(name: .long, help: ArgumentHelp("Without --recipe: one stage of this model's defaults (\(TrainableModels.names.joined(separator: ", "))).", valueName: "name"))
    var model: String?

    @Option(name: .long, help: "Without --recipe: optimisation steps.")
    var steps: Int = 2000

    @Option(name: .long, help: ArgumentHelp("Without --recipe: learning rate (cosine decay to a tenth over the last 20%).", valueName: "rate"))
    var lr: Float = 3e-4

    @Option(name: .long, help: ArgumentHelp("Without --recipe: the teacher (rife-hdv3 or none).", valueName: "name"))
    var teacher: String = "rife-hdv3"

    @Option(name: .long, help: "Without --recipe: random seed (initial weights, data order, crops).")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Print the recipe that would run (JSON) and stop.")
    var printRecipe = false

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Folders of training videos and photos (searched recursively).", valueName: "dir"))
    var data: [String] = []

    @Option(name: .long, help: ArgumentHelp("Weight file to write (float16, for the repository); the float32 checkpoint goes to TWEEN_RUNS or ~/.local/share/tween/runs/NAME/, NAME being the folder holding this file.", valueName: "file"))
    var out: String?

    @Flag(name: .long, help: "Continue the run: from its checkpoint, else (a fresh clone) from the weight file at --out with fresh optimiser moments and a 100-step learning-rate warm-up.")
    var resume = false

    @Option(name: .long, help: ArgumentHelp("Stop at this step (default: the recipe's end); --resume continues later.", valueName: "step"))
    var stopAt: Int?

    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var weightsOptions: WeightsOptions

    static let benchmarkNames = ["beanbags", "dimetrodon", "dogdance", "grove", "hydrangea", "minicooper", "rubberwhale",
                                 "urban", "venus", "walking", "basketball", "mequon", "schefflera", "wooden", "yosemite",
                                 "army", "backyard", "evergreen", "teddy", "middlebury", "ucf101"]

    func validate() throws {
        guard (recipe == nil) != (model == nil) else { throw ValidationError("give --recipe FILE or --model NAME (one of them)") }
        if let model, !TrainableModels.names.contains(model) {
            throw ValidationError("--model must be one of \(TrainableModels.names.joined(separator: ", "))")
        }
        guard ["rife-hdv3", "none"].contains(teacher) else { throw ValidationError("--teacher must be rife-hdv3 or none") }
        guard steps > 0, lr > 0 else { throw ValidationError("--steps and --lr must be positive") }
        if let stopAt, stopAt <= 0 { throw ValidationError("--stop-at must be positive") }
        if !printRecipe {
            guard !data.isEmpty else { throw ValidationError("--data: give at least one folder of training media") }
            guard out != nil else { throw ValidationError("--out: give the weight file to write") }
        }
    }

    /// The recipe file's, or one stage of the model's defaults.
    func loadRecipe() throws -> Recipe {
        if let recipe {
            guard let data = FileManager.default.contents(atPath: recipe) else { throw MediaError(recipe, "cannot read the recipe") }
            return try Recipe.parse(data, source: recipe)
        }
        var stage = Recipe.Stage(until: steps, seed: seed, lr: lr)
        stage.growCropsUntil = steps * 7 / 10
        return Recipe(model: model!, teacher: teacher == "none" ? nil : teacher, stages: [stage])
    }

    /// Checkpoints and teacher caches live outside the repository (docs/TRAINING.md): checkpoints one folder per
    /// run, named after the folder that holds --out (runs/NAME/MODEL.safetensors → RUNS/NAME/MODEL.checkpoint.safetensors),
    /// caches in RUNS/caches, shared by every run.
    static var runsRoot: String {
        let env = ProcessInfo.processInfo.environment
        return env["TWEEN_RUNS"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")) + "/tween/runs"
    }

    static func checkpointPath(out: String) -> String {
        let parent = (URL(fileURLWithPath: out).standardizedFileURL.path as NSString).deletingLastPathComponent
        let folder = (runsRoot as NSString).appendingPathComponent((parent as NSString).lastPathComponent)
        return (folder as NSString).appendingPathComponent(((out as NSString).lastPathComponent as NSString).deletingPathExtension + ".checkpoint.safetensors")
    }

    func run() throws {
        let recipe = try loadRecipe()
        if printRecipe {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(recipe), as: UTF8.self))
            return
        }
        threadOptions.apply()
        try weightsOptions.apply()
        let out = self.out!
        let checkpoint = Self.checkpointPath(out: out)
        if !resume && FileManager.default.fileExists(atPath: checkpoint) {
            throw ValidationError("\(checkpoint): a checkpoint exists; pass --resume to continue it, or remove it")
        }
        // The run's folder is made up front, not found missing after minutes of caching.
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let (clips, photos) = try loadMedia()
        var teacherNet: ((Tensor, Tensor) -> TeacherOutput)?
        if recipe.teacher != nil {
            let rife = try WeightStore.make("rife-hdv3") as! RIFEInterpolator
            teacherNet = { a, b in let o = rife.network.interpolate(a, b); return TeacherOutput(frame: o.frame, flow: o.flow, mask: o.mask) }
        }
        let paths = TrainingRun.Paths(weights: out, checkpoint: checkpoint,
                                      caches: (Self.runsRoot as NSString).appendingPathComponent("caches"),
                                      recipeFolder: ((self.recipe ?? ".") as NSString).deletingLastPathComponent)
        let run = TrainingRun(recipe: recipe, clips: clips, photos: photos, teacher: teacherNet, paths: paths) { Console.line($0) }
        try run.run(resume: resume, stopAt: stopAt)
    }

    /// Videos (every frame, up to 600 per clip) and photos under the --data folders; files named like benchmark
    /// sequences are skipped so that no evaluation frame is ever trained on.
    func loadMedia() throws -> ([VideoClip], [RGBPlanes]) {
        let videoExtensions: Set<String> = ["avi", "mp4", "mkv", "mov", "webm", "m4v"]
        let photoExtensions: Set<String> = ["jpg", "jpeg", "png"]
        var clips: [VideoClip] = [], photos: [RGBPlanes] = []
        for dir in data {
            guard let walker = FileManager.default.enumerator(atPath: dir) else { throw MediaError(dir, "cannot read the folder") }
            let files = (walker.allObjects as? [String] ?? []).sorted()
            for file in files {
                let path = (dir as NSString).appendingPathComponent(file)
                let ext = (file as NSString).pathExtension.lowercased(), lower = file.lowercased()
                guard videoExtensions.contains(ext) || photoExtensions.contains(ext) else { continue }
                if Self.benchmarkNames.contains(where: { lower.contains($0) }) { Console.line("train: skipped \(path) (named like a benchmark set)"); continue }
                let reader = try VideoReader(path: path)
                if photoExtensions.contains(ext) {
                    if let f = try reader.nextFrame(), f.image.width >= 256, f.image.height >= 256 {
                        photos.append(RGBPlanes(width: f.image.width, height: f.image.height, planar: f.image.data))
                    }
                    continue
                }
                var frames: [RGBPlanes] = []
                while frames.count < 600, let f = try reader.nextFrame() {
                    frames.append(RGBPlanes(width: f.image.width, height: f.image.height, planar: f.image.data))
                }
                if frames.count >= 9 { clips.append(VideoClip(name: file, frames: frames)) }
            }
        }
        guard !clips.isEmpty || !photos.isEmpty else { throw MediaError(data.joined(separator: ", "), "no training videos or photos found") }
        return (clips, photos)
    }
}
