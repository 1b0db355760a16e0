import ArgumentParser
import Foundation
import Frames
import Kernels
import Media
import Models
import NN
import Tensor
import Training

/// `tween train`: trains a research-guide model on this machine, resumably, with an optional RIFE teacher.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train Super SloMo or SepConv on videos and photos (checkpointed, resumable, deterministic).",
        discussion: """
        Example (how the shipped weights were made: docs/TRAINING.md and each weight file's `recipe` metadata):
          Scripts/fetch-training-media.sh ~/tween-media
          tween train --model superslomo --data ~/tween-media --teacher rife-hdv3 --steps 6000 --out superslomo.safetensors
        """)

    @Option(name: .long, help: ArgumentHelp("superslomo or sepconv.", valueName: "name"))
    var model: String

    @Option(name: .long, help: ArgumentHelp("Base width: Super SloMo's U-Nets use W, 2W, 4W, 8W, 16W, 16W (32 is the paper's size); SepConv's encoder W, 2W, 4W, 8W, 8W with 2W-wide kernel heads.", valueName: "W"))
    var width: Int = 8

    @Option(name: .long, help: ArgumentHelp("SepConv's kernel-head width (default 2W; the paper's 64 for K = 51).", valueName: "n"))
    var headWidth: Int?

    @Option(name: .long, help: ArgumentHelp("SepConv's 1-D kernel length (odd).", valueName: "K"))
    var kernel: Int = 25

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Folders of training videos and photos (searched recursively).", valueName: "dir"))
    var data: [String]

    @Option(name: .long, help: "Optimisation steps in total (a resumed run continues to this count).")
    var steps: Int = 2000

    @Option(name: .long, help: "Samples per step.")
    var batch: Int = 8

    @Option(name: .long, help: ArgumentHelp("Final crop size, a multiple of 64; training starts at half of it and grows.", valueName: "pixels"))
    var crop: Int = 128

    @Option(name: .long, help: ArgumentHelp("Step by which crops reach --crop (default: 70% of --steps); 0 keeps them at full size, as a resumed run usually wants.", valueName: "step"))
    var growCropsUntil: Int?

    @Option(name: .long, help: ArgumentHelp("Learning rate (a cosine decay to lr/10 from --decay-from to --steps).", valueName: "rate"))
    var lr: Float = 3e-4

    @Option(name: .long, help: ArgumentHelp("Step at which the cosine decay to lr/10 begins (default: 80% of --steps); a resumed run restarts its decay by setting it to the step it resumes at.", valueName: "step"))
    var decayFrom: Int?

    @Option(name: .long, help: ArgumentHelp("Weight file to write (float16 safetensors, for the repository); the float32 checkpoint goes to TWEEN_RUNS or ~/.local/share/tween/runs/NAME/, NAME being the folder holding this file.", valueName: "file"))
    var out: String

    @Flag(name: .long, help: "Continue the run: from its checkpoint, else (a fresh clone) from the weight file at --out with fresh optimiser moments and a 100-step learning-rate warm-up.")
    var resume = false

    @Flag(name: .long, help: "SepConv: start the kernel heads at a blend of the inputs instead of random kernels (a new run only).")
    var blendInit = false

    @Option(name: .long, help: ArgumentHelp("With --blend-init: the factor on the heads' last weights (0…1).", valueName: "s"))
    var blendInitScale: Float = 0.1

    @Option(name: .long, help: ArgumentHelp("Teacher whose flows supervise the student's (rife-hdv3).", valueName: "name"))
    var teacher: String?

    @Option(name: .long, help: ArgumentHelp("Weight of the teacher's flow loss (Super SloMo, pixels) or per-frame loss (SepConv); default 0.01 / 0.5.", valueName: "w"))
    var distillation: Float?

    @Option(name: .long, help: ArgumentHelp("SepConv with a teacher: weight of the loss between each 1-D kernel's centre of mass and the teacher's displacement, pixels (default 0).", valueName: "w"))
    var kernelMoments: Float = 0

    @Option(name: .long, help: ArgumentHelp("adam or adamax (default: the paper's, AdaMax for SepConv, Adam for Super SloMo); a resumed run that switches starts the moments afresh.", valueName: "name"))
    var optimizer: String?

    @Option(name: .long, help: ArgumentHelp("SepConv with a teacher: weight of the squared error between each 1-D kernel and the teacher's displacement as a bilinear tap pair (default 0).", valueName: "w"))
    var kernelTargets: Float = 0

    @Option(name: .long, help: ArgumentHelp("SepConv: weight of the squared error between the kernels' gain on a flat image (Σv₁·Σh₁ + Σv₂·Σh₂) and 1, which keeps brightness (default 0).", valueName: "w"))
    var kernelGainLoss: Float = 0

    @Option(name: .long, help: ArgumentHelp("Start a new run from this weight file's weights (same model and sizes) with a fresh optimiser.", valueName: "file"))
    var initFrom: String?

    @Option(name: .long, help: ArgumentHelp("Start a new run from a narrower weight file of the same model (smaller --width or --head-width): its channels come first and the new ones cannot change them at the start (zero outgoing weights), so the wider network begins where the file's left off; fresh optimiser.", valueName: "file"))
    var widenFrom: String?

    @Flag(name: .long, help: "SepConv, a new run: rewrite the kernel heads into displacement decoders (each head regresses one displacement per pixel and decodes it into a bilinear tap pair; starts at a blend).")
    var displacementInit = false

    @Option(name: .long, help: ArgumentHelp("SepConv with displacement-decoder heads and a teacher: weight of the L1 between each head's displacement and the teacher's, pixels (default 0).", valueName: "w"))
    var displacementLoss: Float = 0

    @Option(name: .long, help: ArgumentHelp("The displacement decoder's α: one unit of the channel is 1/α pixels (default 1/16, or the checkpoint's).", valueName: "α"))
    var displacementScale: Float?

    @Option(name: .long, help: ArgumentHelp("Teacher cache file (default: in the checkpoint's folder).", valueName: "file"))
    var cache: String?

    @Option(name: .long, help: ArgumentHelp("Largest gap k of real training triplets (frames i, i+k, i+2k), 1…4: a new teacher cache's crops and Super SloMo's any-t samples.", valueName: "k"))
    var maxGap: Int = 2

    @Option(name: .long, help: ArgumentHelp("Synthetic scenes' largest background motion over the gap, pixels (patches: 1.5×): a new teacher cache's crops and Super SloMo's any-t samples.", valueName: "px"))
    var maxMotion: Float = 20

    @Option(name: .long, help: "Crops in the teacher cache.")
    var cacheSamples: Int = 3000

    @Option(name: .long, help: ArgumentHelp("Ship the running mean of the weights after every step from this step on (stochastic weight averaging; kept in the checkpoint).", valueName: "step"))
    var averageFrom: Int?

    @Option(name: .long, help: "Write a checkpoint every this many steps.")
    var checkpointEvery: Int = 250

    @Option(name: .long, help: "Validate every this many steps.")
    var validateEvery: Int = 250

    @Option(name: .long, help: "Validation crops (128 px; held-out frames and synthetic scenes).")
    var validationSamples: Int = 32

    @Option(name: .long, help: "Random seed (data order, crops, initial weights).")
    var seed: UInt64 = 1

    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var weightsOptions: WeightsOptions

    static let benchmarkNames = ["beanbags", "dimetrodon", "dogdance", "grove", "hydrangea", "minicooper", "rubberwhale",
                                 "urban", "venus", "walking", "basketball", "mequon", "schefflera", "wooden", "yosemite",
                                 "army", "backyard", "evergreen", "teddy", "middlebury", "ucf101"]

    func validate() throws {
        guard ["superslomo", "sepconv"].contains(model) else { throw ValidationError("--model must be superslomo or sepconv") }
        guard crop % 64 == 0, crop >= 64 else { throw ValidationError("--crop must be a multiple of 64 (the networks need multiples of 32 at half size)") }
        guard kernel % 2 == 1, kernel >= 3 else { throw ValidationError("--kernel must be odd") }
        guard kernelMoments >= 0, kernelMoments == 0 || (model == "sepconv" && teacher != nil) else {
            throw ValidationError("--kernel-moments must be 0 or more and needs --model sepconv with --teacher")
        }
        guard kernelTargets >= 0, kernelTargets == 0 || (model == "sepconv" && teacher != nil) else {
            throw ValidationError("--kernel-targets must be 0 or more and needs --model sepconv with --teacher")
        }
        guard kernelGainLoss >= 0, kernelGainLoss == 0 || model == "sepconv" else {
            throw ValidationError("--kernel-gain-loss must be 0 or more and needs --model sepconv")
        }
        guard displacementLoss >= 0, displacementLoss == 0 || (model == "sepconv" && teacher != nil) else {
            throw ValidationError("--displacement-loss must be 0 or more and needs --model sepconv with --teacher")
        }
        if displacementInit && model != "sepconv" { throw ValidationError("--displacement-init applies to sepconv only") }
        if displacementInit && blendInit { throw ValidationError("--displacement-init and --blend-init are two different starts; pick one") }
        if (displacementInit || initFrom != nil || widenFrom != nil) && resume {
            throw ValidationError("--displacement-init, --init-from and --widen-from start a new run; a resumed run keeps its checkpoint's weights")
        }
        if initFrom != nil && widenFrom != nil { throw ValidationError("--init-from and --widen-from are two different starts; pick one") }
        if let displacementScale, !(displacementScale > 0) { throw ValidationError("--displacement-scale must be positive") }
        if let optimizer, !["adam", "adamax"].contains(optimizer) { throw ValidationError("--optimizer must be adam or adamax") }
        if let growCropsUntil, growCropsUntil < 0 { throw ValidationError("--grow-crops-until must be 0 or more") }
        guard steps > 0, batch > 0, width > 0 else { throw ValidationError("--steps, --batch and --width must be positive") }
        if let decayFrom, !(0...steps).contains(decayFrom) { throw ValidationError("--decay-from must be between 0 and --steps") }
        if let headWidth, headWidth <= 0 || model != "sepconv" { throw ValidationError("--head-width must be positive and applies to sepconv only") }
        if blendInit && model != "sepconv" { throw ValidationError("--blend-init applies to sepconv only") }
        guard blendInitScale >= 0, blendInitScale <= 1 else { throw ValidationError("--blend-init-scale must be 0 to 1") }
        if blendInit && resume { throw ValidationError("--blend-init starts a new run; a resumed run keeps its checkpoint's weights") }
        if let averageFrom, averageFrom < 0 { throw ValidationError("--average-from must be 0 or more") }
        guard (1...4).contains(maxGap) else { throw ValidationError("--max-gap must be 1 to 4 (real triplets come from 9-frame windows)") }
        guard maxMotion >= 0, maxMotion <= 64 else { throw ValidationError("--max-motion must be 0 to 64 pixels") }
        if let teacher, teacher != "rife-hdv3" { throw ValidationError("--teacher: only rife-hdv3 is supported") }
        if !resume && FileManager.default.fileExists(atPath: checkpointPath) {
            throw ValidationError("\(checkpointPath): a checkpoint exists; pass --resume to continue it, or remove it")
        }
    }

    /// Resumable checkpoints and teacher caches live outside the repository, one folder per run, named after the
    /// folder that holds --out (runs/NAME/MODEL.safetensors → RUNS/NAME/MODEL.checkpoint.safetensors), so that only
    /// the float16 weight file, the log and the evals are committed (docs/TRAINING.md).
    var runFolder: String {
        let env = ProcessInfo.processInfo.environment
        let root = env["TWEEN_RUNS"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")) + "/tween/runs"
        let parent = (URL(fileURLWithPath: out).standardizedFileURL.path as NSString).deletingLastPathComponent
        return (root as NSString).appendingPathComponent((parent as NSString).lastPathComponent)
    }

    /// The run's float32 checkpoint (weights, optimiser moments, running mean).
    var checkpointPath: String {
        (runFolder as NSString).appendingPathComponent(((out as NSString).lastPathComponent as NSString).deletingPathExtension + ".checkpoint.safetensors")
    }

    /// Learning-rate warm-up of a run resumed from its float16 weight file (fresh moments), in steps.
    static let restartWarmup = 100

    func run() throws {
        threadOptions.apply()
        weightsOptions.apply()
        // The run's folder is made up front, not found missing after minutes of caching.
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try FileManager.default.createDirectory(atPath: runFolder, withIntermediateDirectories: true)
        let started = Date()
        let (clips, photos) = try loadMedia()
        Console.line("train: \(clips.count) clips (\(clips.map(\.frames.count).reduce(0, +)) frames), \(photos.count) photos")
        let set = TrainingSet(clips: clips, photos: photos, maxGap: maxGap, maxMotion: maxMotion)
        // Validation keeps the default motions so that runs with different data settings stay comparable.
        let validationSet = TrainingSet(clips: clips, photos: photos)
        guard set.canSample(size: max(crop + 32, 128)) else {
            throw MediaError(data.joined(separator: ", "), "no photo of at least 256 pixels and no clip of at least 9 frames and \(max(crop + 32, 128)) pixels to crop from")
        }

        let student: Student
        var metadata: [String: String] = ["recipe": CommandLine.arguments.dropFirst().joined(separator: " "), "seed": "\(seed)"]
        switch model {
        case "superslomo":
            let widths = [1, 2, 4, 8, 16, 16].map { $0 * width }
            student = .superSloMo(SuperSloMo(widths: widths, linearOutput: true, seed: seed))
            metadata["architecture"] = "Super SloMo"; metadata["widths"] = widths.map(String.init).joined(separator: ",")
            metadata[SuperSloMo.outputMetadata.0] = SuperSloMo.outputMetadata.1
        default:
            let config = SepConv.Configuration(widths: [1, 2, 4, 8, 8].map { $0 * width }, subnetWidth: headWidth ?? 2 * width, kernelSize: kernel)
            student = .sepConv(SepConv(config, seed: seed))
            metadata["architecture"] = "SepConv"; metadata["widths"] = config.widths.map(String.init).joined(separator: ",")
            metadata["kernel_size"] = "\(kernel)"; metadata["head_width"] = "\(config.subnetWidth)"
        }
        // Starts of a new run: another run's weights, then SepConv's heads rewritten (after the load, which they edit).
        if let initFrom {
            try student.layer.load(try Safetensors.read(initFrom).tensors, source: initFrom, ignoring: ["optimizer.", "average"])
            metadata["init_from"] = initFrom
        }
        if let widenFrom {
            let file = try Safetensors.read(widenFrom)
            // Widening keeps each channel's meaning; a kernel tap is not a channel, so the kernel size must match.
            if case .sepConv = student, case let taps = try SepConv.configuration(of: file.tensors).kernelSize, taps != kernel {
                throw MediaError(widenFrom, "its kernels have \(taps) taps, not --kernel \(kernel); widening keeps the kernel size")
            }
            try student.layer.loadWidening(file.tensors, source: widenFrom, ignoring: ["optimizer.", "average"], inputParts: student.inputParts)
            metadata["widened_from"] = widenFrom
        }
        if case .sepConv(let network) = student {
            if blendInit { network.initialiseKernelsAsBlend(weightScale: blendInitScale); metadata["kernel_init"] = "blend, last weights ×\(blendInitScale)" }
            if displacementInit { network.initialiseKernelsAsDisplacementDecoder(alpha: displacementScale ?? LossWeights().displacementScale); metadata["kernel_init"] = "displacement decoder" }
        }
        let decayStart = decayFrom ?? steps * 4 / 5
        let trainer = Trainer(student: student, schedule: .decayingTail(lr, start: decayStart, steps: steps, floor: lr / 10),
                              optimizer: optimizer.map { $0 == "adam" ? .adam : .adamax })
        trainer.averageFrom = averageFrom
        let parameterCount = student.layer.parameters().reduce(0) { $0 + $1.1.count }
        Console.line("train: \(model) with \(parameterCount) parameters")

        var firstStep = 0, checkpointScale: Float?
        if resume && !FileManager.default.fileExists(atPath: checkpointPath) {
            // A new machine or a fresh clone: the committed float16 weights, fresh moments, and a short warm-up
            // (measured to cost nothing against the float32 checkpoint: docs/TRAINING.md).
            guard FileManager.default.fileExists(atPath: out) else {
                throw MediaError(checkpointPath, "no checkpoint to resume, and no weight file at \(out) to restart from")
            }
            let file = try Safetensors.read(out)
            guard let done = file.metadata["steps"].flatMap(Int.init) else {
                throw MediaError(out, "the weight file does not say how many steps made it (no 'steps' metadata); start a new run with --init-from")
            }
            try trainer.student.layer.load(file.tensors, source: out)
            trainer.optimizer.restart(at: done)
            trainer.optimizer.schedule = .warmup(trainer.optimizer.schedule, start: done, steps: Self.restartWarmup)
            checkpointScale = file.metadata["displacement_scale"].flatMap(Float.init)
            firstStep = done
            metadata["restarted_from"] = "\(out) at step \(done), fresh moments, \(Self.restartWarmup)-step warm-up"
            Console.line("train: no checkpoint at \(checkpointPath); restarted at step \(done) from the weights in \(out) (fresh optimiser moments, \(Self.restartWarmup)-step warm-up)")
            if firstStep >= steps { Console.line("train: the weight file has all \(steps) steps; nothing to do"); return }
        } else if resume {
            let file = try Safetensors.read(checkpointPath)
            try trainer.restore(file.tensors, source: checkpointPath)
            checkpointScale = file.metadata["displacement_scale"].flatMap(Float.init)
            firstStep = trainer.optimizer.step
            if averageFrom == nil && trainer.averageCount > 0 {
                Console.line("train: the checkpoint's running mean of \(trainer.averageCount) steps is dropped (no --average-from)")
                trainer.discardAverage()
            }
            Console.line("train: resumed at step \(firstStep) from \(checkpointPath)")
            if firstStep >= steps {
                // Nothing left to train: the weight file is rewritten from the checkpoint, with the checkpoint's
                // metadata (its recipe), e.g. after a change to how weight files are stored.
                try writeWeights(trainer, metadata: file.metadata)
                Console.line("train: the checkpoint has all \(steps) steps; rewrote \(out) from it")
                return
            }
        }

        // Teacher outputs (and the crops they belong to) are computed once and reused across runs.
        let cacheSize = crop + 32
        let cachePath = cache ?? (runFolder as NSString).appendingPathComponent(((out as NSString).lastPathComponent as NSString).deletingPathExtension
                                                                                   + ".cache-\(teacher ?? "none")-\(cacheSize)-\(cacheSamples).safetensors")
        let pool: TeacherCache
        if FileManager.default.fileExists(atPath: cachePath) {
            let (cached, cacheMetadata) = try TeacherCache.read(cachePath)
            pool = cached
            Console.line("train: \(pool.samples.count) cached crops from \(cachePath)")
            // Caches from before these options were built with their defaults.
            let built = (cacheMetadata["max_gap"] ?? "2", Float(cacheMetadata["max_motion"] ?? "") ?? 20)
            if built.0 != "\(maxGap)" || built.1 != maxMotion {
                Console.line("train: the cache's crops were drawn with --max-gap \(built.0) --max-motion \(built.1); the options given apply to new caches")
            }
        } else {
            // Each crop holds three frames (and the teacher's four flow channels) in float32; writing adds a float16
            // copy and the file's bytes, so the peak is about twice the crops (measured: 1,000 crops of 416 pixels,
            // 9 GB of crops, were killed for memory on a 24 GB machine while writing; 500 fit).
            let channels = teacher == nil ? 9 : 13
            let peak = Double(cacheSamples) * Double(channels * cacheSize * cacheSize) * 8
            let memory = Double(ProcessInfo.processInfo.physicalMemory)
            if peak > 0.9 * memory {
                let fit = Int(0.9 * memory / (Double(channels * cacheSize * cacheSize) * 8))
                throw MediaError(cachePath, String(format: "a teacher cache of %d crops of %d pixels needs about %.0f GB while it is built, and this machine has %.0f GB; use --cache-samples %d or fewer",
                                                   cacheSamples, cacheSize, peak / 1e9, memory / 1e9, fit))
            }
            let teacherNet: ((Tensor, Tensor) -> Tensor)?
            if teacher != nil {
                let rife = try WeightStore.make("rife-hdv3") as! RIFEInterpolator
                teacherNet = { a, b in rife.network.interpolate(a, b).flow }
            } else { teacherNet = nil }
            let t0 = Date()
            pool = TeacherCache.build(count: cacheSamples, size: cacheSize, set: set, syntheticFraction: 0.5, seed: seed ^ 0xCAC4E,
                                      teacher: teacherNet) { n in
                if n % 400 == 0 { Console.line("train: cache \(n)/\(cacheSamples)") }
            }
            try pool.write(to: cachePath, metadata: ["teacher": teacher ?? "none", "size": "\(cacheSize)", "seed": "\(seed)",
                                                     "max_gap": "\(maxGap)", "max_motion": "\(maxMotion)"])
            Console.line(String(format: "train: cached %d crops in %.0f s → %@", pool.samples.count, Date().timeIntervalSince(t0), cachePath))
        }
        if let distillation { trainer.weights.distillation = distillation; trainer.weights.kernelDistillation = distillation }
        trainer.weights.kernelMoments = kernelMoments
        trainer.weights.kernelTargets = kernelTargets
        trainer.weights.kernelGain = kernelGainLoss
        trainer.weights.displacement = displacementLoss
        trainer.weights.displacementScale = displacementScale ?? checkpointScale ?? trainer.weights.displacementScale
        if displacementInit || displacementLoss > 0 || checkpointScale != nil {
            metadata["displacement_scale"] = "\(trainer.weights.displacementScale)"
        }
        if teacher == nil { trainer.weights.distillation = 0 }
        let validation = validationSet.validation(count: validationSamples, size: 128)
        Console.line(String(format: "train: validation set of %d crops; blending the inputs scores %.2f dB", validation.count, Trainer.blendPSNR(validation)))

        var rng = SeededRandom(seed: seed &+ UInt64(firstStep) &* 0x9E37)
        var window = Date(), windowSamples = 0
        for step in firstStep..<steps {
            let size = cropSize(at: step)
            var samples: [TrainingSample] = []
            // Super SloMo learns any t from 9-frame windows and synthetic scenes on every fourth step.
            let anyT = model == "superslomo" && step % 4 == 3
            let t = anyT ? Float(1 + rng.int(7)) / 8 : 0.5
            for _ in 0..<batch {
                if anyT {
                    var s = set.window(size: size, k: Int(t * 8), rng: &rng).augmented(&rng)
                    if s.t != t { swap(&s.first, &s.last); s.t = t }   // one t per batch: undo a temporal reversal
                    samples.append(s)
                } else {
                    let source = pool.samples[rng.int(pool.samples.count)]
                    let x = rng.int(source.size - size + 1), y = rng.int(source.size - size + 1)
                    var s = source.cropped(x: x, y: y, to: size).augmented(&rng)
                    s.t = 0.5
                    samples.append(s)
                }
            }
            let result = trainer.step(samples)
            windowSamples += batch
            if (step + 1) % 25 == 0 || step + 1 == steps {
                let rate = Double(windowSamples) / Date().timeIntervalSince(window)
                let parts = result.parts.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", ")
                Console.line(String(format: "step %d/%d  crop %d  loss %.4f (%@)  lr %.2e  %.1f samples/s", step + 1, steps, size,
                                    result.loss, parts, trainer.optimizer.schedule.rate(at: step), rate))
                window = Date(); windowSamples = 0
            }
            if (step + 1) % validateEvery == 0 || step + 1 == steps {
                let psnr = trainer.validationPSNR(validation)
                var line = String(format: "step %d  validation PSNR %.2f dB", step + 1, psnr)
                metadata["validation_psnr"] = String(format: "%.2f", psnr)
                if trainer.averageCount > 0 {
                    let averaged = trainer.withAveragedWeights { trainer.validationPSNR(validation) }
                    line += String(format: ", mean of the last %d steps' weights %.2f dB", trainer.averageCount, averaged)
                    metadata["validation_psnr"] = String(format: "%.2f", averaged)
                }
                Console.line(line + String(format: "  (%.0f min)", Date().timeIntervalSince(started) / 60))
            }
            if (step + 1) % checkpointEvery == 0 || step + 1 == steps {
                metadata["steps"] = "\(step + 1)"
                if trainer.averageCount > 0 { metadata["averaged_steps"] = "\(step + 2 - trainer.averageCount)-\(step + 1)" }
                try save(trainer, metadata: metadata)
            }
        }
    }

    /// Crops grow from half the final size, to three quarters at 4/7 of the growth phase and to full size at its end
    /// (the networks need multiples of 32). The default phase, 70% of --steps, keeps the first runs' schedule.
    func cropSize(at step: Int) -> Int {
        let threeQuarters = max(crop / 2, crop * 3 / 4 / 32 * 32)
        guard let end = growCropsUntil else {
            let progress = Float(step) / Float(steps)
            return progress < 0.4 ? crop / 2 : (progress < 0.7 ? threeQuarters : crop)
        }
        return step * 7 < end * 4 ? crop / 2 : (step < end ? threeQuarters : crop)
    }

    /// Writes the checkpoint (float32, with the optimiser) and the weight file (float16), each through a temporary name.
    func save(_ trainer: Trainer, metadata: [String: String]) throws {
        try Safetensors.write(trainer.checkpoint(metadata: metadata), to: checkpointPath + ".partial", metadata: metadata)
        try replace(checkpointPath)
        try writeWeights(trainer, metadata: metadata)
    }

    /// The weight file: the shipped weights in float16 (kernel sums kept), through a temporary name.
    func writeWeights(_ trainer: Trainer, metadata: [String: String]) throws {
        try Safetensors.write(trainer.student.halfPrecisionWeights(trainer.shippedWeights()), to: out + ".partial", dtype: .f16, metadata: metadata)
        try replace(out)
    }

    func replace(_ path: String) throws {
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
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
