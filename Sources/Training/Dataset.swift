import Foundation
import Tensor

/// Decoded frames of one training video.
public struct VideoClip: Sendable {
    public let name: String
    public let frames: [RGBPlanes]
    public init(name: String, frames: [RGBPlanes]) { self.name = name; self.frames = frames }
}

/// Where samples come from: real clips (triplets at gaps 1 and 2, and 9-frame windows for other t) and synthetic
/// scenes from photos. The last `holdOut` part of every clip is kept for validation and never trained on.
public struct TrainingSet {
    public let clips: [VideoClip]
    public let scenes: SyntheticScenes?
    public let holdOut: Double
    /// Largest gap k of a real t = ½ triplet (frames i, i + k, i + 2k); larger gaps mean larger motions.
    public let maxGap: Int

    /// `maxMotion`: the synthetic scenes' largest background displacement over the gap (pixels).
    public init(clips: [VideoClip], photos: [RGBPlanes], holdOut: Double = 0.1, maxGap: Int = 2, maxMotion: Float = 20) {
        precondition(maxGap >= 1 && maxGap <= 4, "real triplets span at most the 9-frame window")
        self.clips = clips
        scenes = photos.isEmpty ? nil : SyntheticScenes(photos: photos, maxMotion: maxMotion)
        self.holdOut = holdOut
        self.maxGap = maxGap
    }

    /// Whether samples of this size can be drawn (a clip at least that large, or photos for synthetic scenes).
    public func canSample(size: Int) -> Bool {
        scenes != nil || clips.contains { usable($0, size: size, span: 8) }
    }

    func usable(_ clip: VideoClip, size: Int, span: Int) -> Bool {
        clip.frames.count > span + 2 && clip.frames[0].width >= size && clip.frames[0].height >= size
    }

    /// Frames i, i + k, i + span of a random clip (training part, or the held-out part), cropped at one place.
    func realSample(size: Int, span: Int, k: Int, heldOut: Bool, rng: inout SeededRandom) -> TrainingSample? {
        let candidates = clips.filter { usable($0, size: size, span: span) }
        guard !candidates.isEmpty else { return nil }
        let clip = candidates[rng.int(candidates.count)]
        let split = Int(Double(clip.frames.count) * (1 - holdOut))
        let range = heldOut ? split..<(clip.frames.count - span) : 0..<max(1, split - span)
        guard !range.isEmpty else { return nil }
        let i = range.lowerBound + rng.int(range.count)
        let f = clip.frames[i]
        let x = rng.int(f.width - size + 1), y = rng.int(f.height - size + 1)
        return TrainingSample(size: size, first: f.crop(x: x, y: y, size: size),
                              middle: clip.frames[i + k].crop(x: x, y: y, size: size),
                              last: clip.frames[i + span].crop(x: x, y: y, size: size), t: Float(k) / Float(span))
    }

    /// A t = ½ triplet: real (gap 1 … maxGap) or synthetic, by `synthetic`.
    public func triplet(size: Int, synthetic: Bool, heldOut: Bool = false, rng: inout SeededRandom) -> TrainingSample {
        if !synthetic || scenes == nil {
            let gap = 1 + rng.int(maxGap)
            if let s = realSample(size: size, span: 2 * gap, k: gap, heldOut: heldOut, rng: &rng) { return s }
        }
        guard let scenes else { fatalError("no usable training clips or photos") }
        return scenes.triplet(size: size, t: 0.5, rng: &rng)
    }

    /// Any t in {1/8, …, 7/8}: a 9-frame window of a real clip, or a synthetic scene.
    public func window(size: Int, k: Int, rng: inout SeededRandom) -> TrainingSample {
        if rng.bool(), let s = realSample(size: size, span: 8, k: k, heldOut: false, rng: &rng) { return s }
        guard let scenes else { return triplet(size: size, synthetic: false, rng: &rng) }
        return scenes.triplet(size: size, t: Float(k) / 8, rng: &rng)
    }

    /// A fixed validation set: held-out real triplets and synthetic scenes from a separate seed.
    public func validation(count: Int, size: Int) -> [TrainingSample] {
        var rng = SeededRandom(seed: 0x5EED_0F_7A11D)
        return (0..<count).map { triplet(size: size, synthetic: $0 % 2 == 1, heldOut: true, rng: &rng) }
    }
}

/// Teacher outputs computed once: crops (t = ½) with the teacher's flows from t, stored as float16 safetensors so a
/// later run (or a resumed one) reuses them instead of running the teacher every step.
public struct TeacherCache {
    public var samples: [TrainingSample]

    /// `teacher` maps frames [N, 3, S, S] at 0 and 1 to flows [N, 4, S, S] (Fₜ→₀, Fₜ→₁ at t = ½).
    public static func build(count: Int, size: Int, set: TrainingSet, syntheticFraction: Float, seed: UInt64,
                             teacher: ((Tensor, Tensor) -> Tensor)?, progress: (Int) -> Void = { _ in }) -> TeacherCache {
        var rng = SeededRandom(seed: seed)
        var samples: [TrainingSample] = []
        let batch = 8
        while samples.count < count {
            var chunk: [TrainingSample] = []
            for _ in 0..<min(batch, count - samples.count) {
                chunk.append(set.triplet(size: size, synthetic: rng.uniform(0, 1) < syntheticFraction, rng: &rng))
            }
            if let teacher {
                let n = chunk.count
                let a = Tensor(shape: [n, 3, size, size], data: chunk.flatMap(\.first))
                let b = Tensor(shape: [n, 3, size, size], data: chunk.flatMap(\.last))
                let flow = Tensor.inferenceMode { teacher(a, b) }
                let fp = 4 * size * size
                for i in 0..<n { chunk[i].teacherFlow = Array(flow.data[(i * fp)..<((i + 1) * fp)]) }
            }
            samples += chunk
            progress(samples.count)
        }
        return TeacherCache(samples: samples)
    }

    public func write(to path: String, metadata: [String: String]) throws {
        guard let first = samples.first else { return }
        let (n, s) = (samples.count, first.size)
        var tensors: [String: Tensor] = [
            "first": Tensor(shape: [n, 3, s, s], data: samples.flatMap(\.first)),
            "middle": Tensor(shape: [n, 3, s, s], data: samples.flatMap(\.middle)),
            "last": Tensor(shape: [n, 3, s, s], data: samples.flatMap(\.last)),
            "t": Tensor(shape: [n], data: samples.map(\.t)),
        ]
        if samples.allSatisfy({ $0.teacherFlow != nil }) {
            tensors["flow"] = Tensor(shape: [n, 4, s, s], data: samples.flatMap { $0.teacherFlow! })
        }
        try Safetensors.write(tensors, to: path + ".partial", dtype: .f16, metadata: metadata)
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
    }

    public static func read(_ path: String) throws -> (TeacherCache, [String: String]) {
        let file = try Safetensors.read(path)
        guard let first = file.tensors["first"], let middle = file.tensors["middle"], let last = file.tensors["last"],
              let t = file.tensors["t"], first.rank == 4 else {
            throw Safetensors.Error(path: path, problem: "not a teacher cache")
        }
        let (n, s) = (first.shape[0], first.shape[2])
        let plane = 3 * s * s, fp = 4 * s * s
        let flow = file.tensors["flow"]
        let samples = (0..<n).map { i in
            TrainingSample(size: s, first: Array(first.data[(i * plane)..<((i + 1) * plane)]),
                           middle: Array(middle.data[(i * plane)..<((i + 1) * plane)]),
                           last: Array(last.data[(i * plane)..<((i + 1) * plane)]), t: t.data[i],
                           teacherFlow: flow.map { Array($0.data[(i * fp)..<((i + 1) * fp)]) })
        }
        return (TeacherCache(samples: samples), file.metadata)
    }
}
