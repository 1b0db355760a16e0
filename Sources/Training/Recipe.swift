import Foundation

/// How a weight file is made: a model, its architecture, a teacher, and stages run one after another, each with its
/// data, crops, schedule, losses and start. `tween train --recipe FILE` runs it; the weight file's metadata carries
/// it. Steps are counted from the start of the whole recipe: a stage runs from the previous stage's `until` to its own.
public struct Recipe: Codable, Equatable, Sendable {
    public var model: String
    /// Architecture keys over the model's defaults (`TrainableModelEntry.architectureDefaults`).
    public var architecture: [String: Double]?
    /// The teacher whose outputs the cache holds (rife-hdv3), or none.
    public var teacher: String?
    public var notes: String?
    /// Validation crops (128 px, held-out frames and synthetic scenes from a fixed seed; default 32).
    public var validationSamples: Int?
    public var stages: [Stage]

    public struct Stage: Codable, Equatable, Sendable {
        public var name: String?
        public var note: String?
        /// The step at which the stage ends.
        public var until: Int
        /// Seeds the sampler at the stage's start (and the network's initial weights in the first stage).
        public var seed: UInt64
        public var batch: Int?
        /// Final crop size, a multiple of 64 (the networks need multiples of 32 at half size).
        public var crop: Int?
        /// Crops grow from half of `crop`, to three quarters at 4/7 of this step and to full size at it (absent: full
        /// size throughout).
        public var growCropsUntil: Int?
        public var lr: Float
        /// A cosine decay from `lr` to `lrFloor` between these steps (defaults: 80% into the stage, and its end); a stage
        /// that stops before `decayTo` ends part-way through the decay.
        public var decayFrom: Int?
        public var decayTo: Int?
        public var lrFloor: Float?
        /// A linear learning-rate warm-up over this many steps at the stage's start.
        public var warmup: Int?
        /// adam or adamax (default: the model's paper's); a change starts the moments afresh.
        public var optimizer: String?
        /// Loss weights by name over the model's defaults.
        public var losses: [String: Float]?
        public var start: Start?
        public var cache: Cache?
        /// Largest gap k of real triplets (frames i, i + k, i + 2k), 1 … 4, and the synthetic scenes' largest motion
        /// over the gap in pixels: the cache's crops and other-t batches.
        public var maxGap: Int?
        public var maxMotion: Float?
        /// The synthetic scenes: `affine` (the default, the shipped models' data) or `layered` (several layers with
        /// perspective motion, brightness change and small non-rigid deformation).
        public var scenes: String?
        /// Ship the running mean of the weights after every step from this step on.
        public var averageFrom: Int?
        public var validateEvery: Int?
        public var checkpointEvery: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, note, until, seed, batch, crop, lr, warmup, optimizer, losses, cache
            case growCropsUntil = "grow_crops_until", decayFrom = "decay_from", decayTo = "decay_to", lrFloor = "lr_floor"
            case start = "init", maxGap = "max_gap", maxMotion = "max_motion", averageFrom = "average_from", scenes
            case validateEvery = "validate_every", checkpointEvery = "checkpoint_every"
        }

        public init(until: Int, seed: UInt64, lr: Float) { self.until = until; self.seed = seed; self.lr = lr }

        public var batchSize: Int { batch ?? 8 }
        public var sceneKind: SyntheticScenes.Kind { scenes.flatMap(SyntheticScenes.Kind.init(rawValue:)) ?? .affine }
        public var cropSize: Int { crop ?? 128 }
    }

    /// How a stage starts when the run reaches it: from another weight file's weights (`from`, a path relative to the
    /// recipe; `widen` for a narrower file of the same model), then a start of the model's own (`start`, with its
    /// `settings`). Either way the optimiser starts afresh.
    public struct Start: Codable, Equatable, Sendable {
        public var from: String?
        public var widen: Bool?
        public var start: String?
        public var settings: [String: Double]?
        enum CodingKeys: String, CodingKey, CaseIterable { case from, widen, start, settings }
        public init(from: String? = nil, widen: Bool? = nil, start: String? = nil, settings: [String: Double]? = nil) {
            self.from = from; self.widen = widen; self.start = start; self.settings = settings
        }
    }

    /// The teacher cache a stage trains from (crops of `crop` + 32 pixels at t = ½).
    public struct Cache: Codable, Equatable, Sendable {
        public var samples: Int?
        /// Draws the crops (default: the stage's seed).
        public var seed: UInt64?
        public var syntheticFraction: Float?
        public var pairFraction: Float?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case samples, seed, syntheticFraction = "synthetic_fraction", pairFraction = "pair_fraction"
        }
        public init(samples: Int? = nil, seed: UInt64? = nil) { self.samples = samples; self.seed = seed }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, architecture, teacher, notes, stages, validationSamples = "validation_samples"
    }

    public init(model: String, architecture: [String: Double]? = nil, teacher: String? = nil, stages: [Stage]) {
        self.model = model; self.architecture = architecture; self.teacher = teacher; self.stages = stages
    }

    /// The step each stage starts at.
    public func start(ofStage index: Int) -> Int { index == 0 ? 0 : stages[index - 1].until }
    public var steps: Int { stages.last?.until ?? 0 }

    /// The stage that trains step `step` (the last one at or past the end).
    public func stageIndex(at step: Int) -> Int { stages.firstIndex { step < $0.until } ?? stages.count - 1 }

    /// Parses a recipe, refusing keys it does not know (a misspelt key would otherwise be silently ignored).
    public static func parse(_ data: Data, source: String) throws -> Recipe {
        func fail(_ problem: String) -> RecipeError { RecipeError("\(source): \(problem)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw fail("not a JSON object") }
        func check(_ dict: [String: Any], _ known: [String], _ where_: String) throws {
            if let key = dict.keys.sorted().first(where: { !known.contains($0) }) {
                throw fail("unknown key \"\(key)\" in \(where_) (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        try check(object, CodingKeys.allCases.map(\.rawValue), "the recipe")
        for (i, stage) in ((object["stages"] as? [Any]) ?? []).enumerated() {
            guard let s = stage as? [String: Any] else { throw fail("stage \(i + 1) is not an object") }
            try check(s, Stage.CodingKeys.allCases.map(\.rawValue), "stage \(i + 1)")
            if let c = s["cache"] as? [String: Any] { try check(c, Cache.CodingKeys.allCases.map(\.rawValue), "stage \(i + 1)'s cache") }
            if let c = s["init"] as? [String: Any] { try check(c, Start.CodingKeys.allCases.map(\.rawValue), "stage \(i + 1)'s init") }
        }
        let recipe: Recipe
        do { recipe = try JSONDecoder().decode(Recipe.self, from: data) }
        catch let DecodingError.keyNotFound(key, context) { throw fail("missing \"\(key.stringValue)\" in \(Self.describe(context.codingPath))") }
        catch let DecodingError.typeMismatch(_, context) { throw fail("wrong type for \(Self.describe(context.codingPath))") }
        catch let DecodingError.valueNotFound(_, context) { throw fail("no value for \(Self.describe(context.codingPath))") }
        catch { throw fail("cannot be read (\(error))") }
        try recipe.validate(source: source)
        return recipe
    }

    static func describe(_ path: [CodingKey]) -> String {
        path.isEmpty ? "the recipe" : path.filter { $0.stringValue != "stages" }
            .map { $0.intValue.map { "stage \($0 + 1)" } ?? $0.stringValue }.joined(separator: ".")
    }

    /// Checks what can be checked before any data is loaded.
    public func validate(source: String) throws {
        func fail(_ problem: String) -> RecipeError { RecipeError("\(source): \(problem)") }
        // The model is built once to check the architecture keys, loss names and starts against it.
        let built: any TrainableModel
        do { built = try TrainableModels.make(model, architecture: architecture ?? [:], seed: 0) } catch let e as RecipeError { throw fail(e.description) }
        if let teacher, teacher != "rife-hdv3" { throw fail("teacher must be rife-hdv3 (or absent)") }
        guard !stages.isEmpty else { throw fail("no stages") }
        if let v = validationSamples, v <= 0 { throw fail("validation_samples must be positive") }
        for (i, s) in stages.enumerated() {
            let name = "stage \(i + 1)", start = self.start(ofStage: i)
            guard s.until > start else { throw fail("\(name) ends at step \(s.until), not after its start at \(start)") }
            guard s.batchSize > 0 else { throw fail("\(name): batch must be positive") }
            guard s.cropSize >= 64, s.cropSize % 64 == 0 else { throw fail("\(name): crop must be a multiple of 64") }
            guard s.lr > 0 else { throw fail("\(name): lr must be positive") }
            if let d = s.decayFrom, let e = s.decayTo, e < d { throw fail("\(name): decay_to is before decay_from") }
            if let o = s.optimizer, !["adam", "adamax"].contains(o) { throw fail("\(name): optimizer must be adam or adamax") }
            if let g = s.maxGap, !(1...4).contains(g) { throw fail("\(name): max_gap must be 1 to 4 (real triplets come from 9-frame windows)") }
            if let m = s.maxMotion, !(0...64).contains(m) { throw fail("\(name): max_motion must be 0 to 64 pixels") }
            if let k = s.scenes, SyntheticScenes.Kind(rawValue: k) == nil {
                throw fail("\(name): scenes must be one of \(SyntheticScenes.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let c = s.cache {
                if let n = c.samples, n <= 0 { throw fail("\(name): cache.samples must be positive") }
                if let f = c.syntheticFraction, !(0...1).contains(f) { throw fail("\(name): cache.synthetic_fraction must be 0 to 1") }
                if let f = c.pairFraction, !(0...1).contains(f) || f + (c.syntheticFraction ?? 0.5) > 1 {
                    throw fail("\(name): cache.pair_fraction must be 0 to 1 − synthetic_fraction")
                }
                if c.pairFraction ?? 0 > 0 && teacher == nil { throw fail("\(name): cache.pair_fraction needs a teacher (its frame is the target)") }
            }
            if let unknown = (s.losses ?? [:]).keys.sorted().first(where: { built.defaultLossWeights[$0] == nil }) {
                throw fail("\(name): loss \"\(unknown)\" is not one of \(model)'s (\(built.defaultLossWeights.keys.sorted().joined(separator: ", ")))")
            }
            if let start = s.start?.start {
                guard let known = built.namedStarts[start] else {
                    throw fail("\(name): init.start \"\(start)\" is not one of \(model)'s (\(built.namedStarts.isEmpty ? "it has none" : built.namedStarts.keys.sorted().joined(separator: ", ")))")
                }
                if let key = (s.start?.settings ?? [:]).keys.sorted().first(where: { !known.contains($0) }) {
                    throw fail("\(name): init.settings key \"\(key)\" is not one of \(start)'s (\(known.isEmpty ? "it has none" : known.sorted().joined(separator: ", ")))")
                }
            } else if s.start?.settings != nil {
                throw fail("\(name): init.settings needs init.start")
            }
            if s.start?.widen == true && s.start?.from == nil { throw fail("\(name): init.widen needs init.from") }
            for v in [s.validateEvery, s.checkpointEvery, s.warmup].compactMap({ $0 }) where v <= 0 {
                throw fail("\(name): validate_every, checkpoint_every and warmup must be positive")
            }
        }
    }

    /// The recipe as compact JSON with sorted keys (for weight-file metadata).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
