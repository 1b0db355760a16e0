import Foundation
import NN
import Tensor

/// Runs a recipe: builds the model, starts or resumes it, and trains stage by stage, writing a float32 checkpoint
/// (weights, optimiser moments, running mean) and a float16 weight file every `checkpoint_every` steps. The media are
/// loaded by the caller and the teacher is a function; nothing here reads frames from files.
public final class TrainingRun {
    public struct Paths {
        /// The float16 weight file (committed), its float32 checkpoint (kept outside the repository) and the folder of
        /// shared teacher caches.
        public var weights: String, checkpoint: String, caches: String
        /// Folder that `init.from` paths are relative to (the recipe's).
        public var recipeFolder: String
        public init(weights: String, checkpoint: String, caches: String, recipeFolder: String) {
            self.weights = weights; self.checkpoint = checkpoint; self.caches = caches; self.recipeFolder = recipeFolder
        }
    }

    /// Learning-rate warm-up of a run resumed from its float16 weight file (fresh moments), in steps.
    public static let restartWarmup = 100

    public let recipe: Recipe
    let clips: [VideoClip], photos: [RGBPlanes]
    let teacher: ((Tensor, Tensor) -> TeacherOutput)?
    let paths: Paths
    let log: (String) -> Void
    public let media: String

    public init(recipe: Recipe, clips: [VideoClip], photos: [RGBPlanes], teacher: ((Tensor, Tensor) -> TeacherOutput)?,
                paths: Paths, log: @escaping (String) -> Void) {
        self.recipe = recipe; self.clips = clips; self.photos = photos; self.teacher = teacher; self.paths = paths; self.log = log
        media = TrainingSet.fingerprint(clips: clips, photos: photos)
    }

    /// Trains to the recipe's end, or to `stopAt`. `resume` continues from the checkpoint, else (a fresh clone) from
    /// the weight file with fresh moments and a short warm-up; without it a run refuses to replace a checkpoint.
    public func run(resume: Bool, stopAt: Int? = nil) throws {
        let started = Date()
        let fm = FileManager.default
        let hasCheckpoint = fm.fileExists(atPath: paths.checkpoint)
        if hasCheckpoint && !resume { throw RecipeError("\(paths.checkpoint): a checkpoint exists; pass --resume to continue it, or remove it") }
        let end = min(stopAt ?? recipe.steps, recipe.steps)

        let model = try TrainableModels.make(recipe.model, architecture: recipe.architecture ?? [:], seed: recipe.stages[0].seed)
        var metadata = model.architectureMetadata
        metadata["recipe"] = recipe.json
        log("train: \(recipe.model) with \(model.layer.parameters().reduce(0) { $0 + $1.1.count }) parameters, \(recipe.stages.count) stage(s) to step \(recipe.steps)")
        log("train: \(clips.count) clips (\(clips.map(\.frames.count).reduce(0, +)) frames), \(photos.count) photos")

        // Where the run stands: a checkpoint, the weight file (fresh moments), or a new run.
        var step = 0
        var restored: [String: Tensor]?
        var restartedAt: Int?
        if hasCheckpoint {
            let file = try Safetensors.read(paths.checkpoint)
            restored = file.tensors
            step = Int(file.tensors["optimizer.step"]?.data.first ?? 0)
            for key in ["restarted_from", "init_from", "widened_from", "kernel_init"] { if let v = file.metadata[key] { metadata[key] = v } }
            log("train: resumed at step \(step) from \(paths.checkpoint)")
        } else if resume {
            guard fm.fileExists(atPath: paths.weights) else {
                throw RecipeError("\(paths.checkpoint): no checkpoint to resume, and no weight file at \(paths.weights) to restart from")
            }
            let file = try Safetensors.read(paths.weights)
            guard let done = file.metadata["steps"].flatMap(Int.init) else {
                throw RecipeError("\(paths.weights): the weight file does not say how many steps made it (no 'steps' metadata)")
            }
            try model.layer.load(file.tensors, source: paths.weights)
            step = done; restartedAt = done
            metadata["restarted_from"] = "\((paths.weights as NSString).lastPathComponent) at step \(done), fresh moments, \(Self.restartWarmup)-step warm-up"
            log("train: no checkpoint at \(paths.checkpoint); restarted at step \(done) from the weights in \(paths.weights) (fresh optimiser moments, \(Self.restartWarmup)-step warm-up)")
        }
        if step >= end {
            if let restored {
                // Nothing left to train: the weight file is rewritten from the checkpoint (e.g. after a change to how
                // weight files are stored).
                let trainer = Trainer(model: model, schedule: .constant(0))
                try trainer.restore(restored, source: paths.checkpoint)
                let file = try Safetensors.read(paths.checkpoint)
                try writeWeights(trainer, metadata: file.metadata.merging(metadata) { $1 })
                log("train: the checkpoint has all \(end) steps; rewrote \(paths.weights) from it")
            } else {
                log("train: the weights have all \(end) steps; nothing to do")
            }
            return
        }

        let validationSet = TrainingSet(clips: clips, photos: photos)
        guard validationSet.canSample(size: 160) else {
            throw RecipeError("no photo of at least 256 pixels and no clip of at least 9 frames and 160 pixels to crop from")
        }
        // Validation keeps the default motions so that runs with different data settings stay comparable.
        let validation = validationSet.validation(count: recipe.validationSamples ?? 32, size: 128)
        log(String(format: "train: validation set of %d crops; blending the inputs scores %.2f dB", validation.count, Trainer.blendPSNR(validation)))

        var trainer: Trainer?
        var stageIndex = recipe.stageIndex(at: step)
        while step < end {
            let stage = recipe.stages[stageIndex], stageStart = recipe.start(ofStage: stageIndex)
            let stageEnd = min(stage.until, end)
            log("train: stage \(stageIndex + 1)/\(recipe.stages.count)\(stage.name.map { " (\($0))" } ?? ""), steps \(step)–\(stageEnd)")

            let variant = stage.optimizer.map { $0 == "adam" ? Adam.Variant.adam : .adamax } ?? model.paperOptimizer
            let next = Trainer(model: model, schedule: schedule(stage, start: stageStart), optimizer: variant)
            if let restored {
                try next.restore(restored, source: paths.checkpoint)
            } else if let trainer {
                next.optimizer.restore(trainer.optimizer.state)
                next.carryAverage(from: trainer)
            } else {
                next.optimizer.restart(at: step)
            }
            restored = nil
            // The stage's start, when the run is at its first step (a checkpoint there is the previous stage's end):
            // other weights, then the model's own start, with fresh moments and no running mean.
            if step == stageStart, let start = stage.start {
                try applyStart(start, to: model, metadata: &metadata)
                next.optimizer.restart(at: step)
                next.discardAverage()
            }
            if let restartedAt, step == restartedAt {
                next.optimizer.schedule = .warmup(next.optimizer.schedule, start: restartedAt, steps: Self.restartWarmup)
            }
            next.lossWeights = stage.losses ?? [:]
            if let unknown = next.lossWeights.keys.sorted().first(where: { model.defaultLossWeights[$0] == nil }) {
                throw RecipeError("stage \(stageIndex + 1): loss \"\(unknown)\" is not one of \(recipe.model)'s (\(model.defaultLossWeights.keys.sorted().joined(separator: ", ")))")
            }
            next.averageFrom = stage.averageFrom
            if stage.averageFrom == nil && next.averageCount > 0 {
                log("train: the running mean of \(next.averageCount) steps is dropped (the stage has no average_from)")
                next.discardAverage()
            }
            trainer = next

            let cache = try teacherCache(for: stage)
            let set = TrainingSet(clips: clips, photos: photos, maxGap: stage.maxGap ?? 2, maxMotion: stage.maxMotion ?? 20, scenes: stage.sceneKind)
            metadata["seed"] = "\(stage.seed)"
            metadata["stage"] = stage.name ?? "\(stageIndex + 1)"
            try train(next, stage: stage, from: step, to: stageEnd, cache: cache, set: set, validation: validation,
                      metadata: &metadata, started: started)
            step = stageEnd
            stageIndex += 1
        }
    }

    /// The stage's learning rate: constant, then a cosine decay to the floor (lr/10 unless given).
    func schedule(_ stage: Recipe.Stage, start: Int) -> Schedule {
        let decayFrom = stage.decayFrom ?? start + (stage.until - start) * 4 / 5
        var s = Schedule.decayingTail(stage.lr, start: decayFrom, steps: stage.decayTo ?? stage.until, floor: stage.lrFloor ?? stage.lr / 10)
        if let warmup = stage.warmup { s = .warmup(s, start: start, steps: warmup) }
        return s
    }

    func applyStart(_ start: Recipe.Start, to model: any TrainableModel, metadata: inout [String: String]) throws {
        if let from = start.from {
            let path = from.hasPrefix("/") ? from : (paths.recipeFolder as NSString).appendingPathComponent(from)
            let file = try Safetensors.read(path)
            if start.widen == true {
                try model.layer.loadWidening(file.tensors, source: path, ignoring: ["optimizer.", "average"], inputParts: model.inputParts(ofWeight:))
                metadata["widened_from"] = from
            } else {
                try model.layer.load(file.tensors, source: path, ignoring: ["optimizer.", "average"])
                metadata["init_from"] = from
            }
            log("train: weights from \(path)\(start.widen == true ? " (widened)" : "")")
        }
        if let name = start.start {
            metadata["kernel_init"] = try model.applyStart(name, settings: start.settings ?? [:])
            log("train: start \(name)")
        }
    }

    /// The stage's teacher cache, shared by every run with the same settings and media, built if missing.
    func teacherCache(for stage: Recipe.Stage) throws -> TeacherCache {
        var settings = TeacherCache.Settings(count: stage.cache?.samples ?? 3000, size: stage.cropSize + 32, seed: stage.cache?.seed ?? stage.seed)
        settings.syntheticFraction = stage.cache?.syntheticFraction ?? 0.5
        settings.pairFraction = stage.cache?.pairFraction ?? 0
        settings.maxGap = stage.maxGap ?? 2
        settings.maxMotion = stage.maxMotion ?? 20
        settings.scenes = stage.sceneKind
        let teacherName = teacher == nil ? "none" : (recipe.teacher ?? "none")
        let path = (paths.caches as NSString).appendingPathComponent(settings.fileName(teacher: teacherName, media: media))
        if FileManager.default.fileExists(atPath: path) {
            let cache = try TeacherCache(path: path)
            log("train: \(cache.count) cached crops from \(path)")
            return cache
        }
        let need = TeacherCache.bytes(settings, teacher: teacher != nil), memory = Double(ProcessInfo.processInfo.physicalMemory)
        if need > 0.8 * memory {
            let fit = Int(0.8 * memory / (need / Double(settings.count)))
            throw RecipeError(String(format: "%@: a cache of %d crops of %d pixels needs about %.1f GB while it is built and this machine has %.0f GB; use cache.samples %d or fewer",
                                     path, settings.count, settings.size, need / 1e9, memory / 1e9, fit))
        }
        try FileManager.default.createDirectory(atPath: paths.caches, withIntermediateDirectories: true)
        let set = TrainingSet(clips: clips, photos: photos, maxGap: settings.maxGap, maxMotion: settings.maxMotion, scenes: settings.scenes)
        let t0 = Date()
        let cache = try TeacherCache.build(settings, set: set, teacher: teacher.map { (teacherName, $0) }, media: media, to: path) { n in
            if n % 400 == 0 { self.log("train: cache \(n)/\(settings.count)") }
        }
        log(String(format: "train: cached %d crops in %.0f s → %@", cache.count, Date().timeIntervalSince(t0), path))
        return cache
    }

    /// Crops grow from half the final size, to three quarters at 4/7 of the growth phase and to full size at its end.
    static func cropSize(at step: Int, crop: Int, growUntil: Int?) -> Int {
        guard let end = growUntil, end > 0 else { return crop }
        let threeQuarters = max(crop / 2, crop * 3 / 4 / 32 * 32)
        return step * 7 < end * 4 ? crop / 2 : (step < end ? threeQuarters : crop)
    }

    func train(_ trainer: Trainer, stage: Recipe.Stage, from first: Int, to end: Int, cache: TeacherCache, set: TrainingSet,
               validation: [TrainingSample], metadata: inout [String: String], started: Date) throws {
        let model = trainer.model
        var rng = SeededRandom(seed: stage.seed &+ UInt64(first) &* 0x9E37)
        var window = Date(), windowSamples = 0
        let validateEvery = stage.validateEvery ?? 250, checkpointEvery = stage.checkpointEvery ?? 250
        for step in first..<end {
            let size = Self.cropSize(at: step, crop: stage.cropSize, growUntil: stage.growCropsUntil)
            var samples: [TrainingSample] = []
            // Models that learn other t get a batch at one t in {1/8, …, 7/8} every `otherTimeEvery` steps.
            let every = model.otherTimeEvery
            let otherT = every > 0 && step % every == every - 1
            let t = otherT ? Float(1 + rng.int(7)) / 8 : 0.5
            for _ in 0..<stage.batchSize {
                if otherT {
                    var s = set.window(size: size, k: Int(t * 8), rng: &rng).augmented(&rng)
                    if s.t != t { swap(&s.first, &s.last); s.t = t }   // one t per batch: undo a temporal reversal
                    samples.append(s)
                } else {
                    let index = rng.int(cache.count)
                    let x = rng.int(cache.size - size + 1), y = rng.int(cache.size - size + 1)
                    var s = cache.crop(index, x: x, y: y, size: size).augmented(&rng)
                    s.t = 0.5
                    samples.append(s)
                }
            }
            let result = trainer.step(samples)
            windowSamples += stage.batchSize
            if (step + 1) % 25 == 0 || step + 1 == end {
                let rate = Double(windowSamples) / Date().timeIntervalSince(window)
                let parts = result.parts.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", ")
                log(String(format: "step %d/%d  crop %d  loss %.4f (%@)  lr %.2e  %.1f samples/s", step + 1, recipe.steps, size,
                           result.loss, parts, trainer.optimizer.schedule.rate(at: step), rate))
                window = Date(); windowSamples = 0
            }
            if (step + 1) % validateEvery == 0 || step + 1 == end {
                let psnr = trainer.validationPSNR(validation)
                var line = String(format: "step %d  validation PSNR %.2f dB", step + 1, psnr)
                metadata["validation_psnr"] = String(format: "%.2f", psnr)
                if trainer.averageCount > 0 {
                    let averaged = trainer.withAveragedWeights { trainer.validationPSNR(validation) }
                    line += String(format: ", mean of the last %d steps' weights %.2f dB", trainer.averageCount, averaged)
                    metadata["validation_psnr"] = String(format: "%.2f", averaged)
                }
                log(line + String(format: "  (%.0f min)", Date().timeIntervalSince(started) / 60))
            }
            if (step + 1) % checkpointEvery == 0 || step + 1 == end {
                metadata["steps"] = "\(step + 1)"
                metadata["averaged_steps"] = trainer.averageCount > 0 ? "\(step + 2 - trainer.averageCount)-\(step + 1)" : nil
                try save(trainer, metadata: metadata)
            }
        }
    }

    /// Writes the checkpoint (float32, with the optimiser) and the weight file (float16), each through a temporary name.
    func save(_ trainer: Trainer, metadata: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: (paths.checkpoint as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Safetensors.write(trainer.checkpoint(metadata: metadata), to: paths.checkpoint + ".partial", metadata: metadata)
        try Self.replace(paths.checkpoint)
        try writeWeights(trainer, metadata: metadata)
    }

    /// The weight file: the shipped weights made ready for float16, through a temporary name.
    func writeWeights(_ trainer: Trainer, metadata: [String: String]) throws {
        try Safetensors.write(trainer.model.halfPrecisionWeights(trainer.shippedWeights()), to: paths.weights + ".partial", dtype: .f16, metadata: metadata)
        try Self.replace(paths.weights)
    }

    static func replace(_ path: String) throws {
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
    }
}
