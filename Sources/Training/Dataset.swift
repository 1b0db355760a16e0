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
    public init(clips: [VideoClip], photos: [RGBPlanes], holdOut: Double = 0.1, maxGap: Int = 2, maxMotion: Float = 20,
                scenes kind: SyntheticScenes.Kind = .affine) {
        precondition(maxGap >= 1 && maxGap <= 4, "real triplets span at most the 9-frame window")
        self.clips = clips
        scenes = photos.isEmpty ? nil : SyntheticScenes(photos: photos, maxMotion: maxMotion, kind: kind)
        self.holdOut = holdOut
        self.maxGap = maxGap
    }

    /// A short hash of the media (clip file names, frame counts and sizes, photo sizes, and a sample of their pixels)
    /// that names the teacher caches drawn from them: a cache is reused only with the media it was drawn from. A clip
    /// counts by its file name without folders, so `--data DIR` and `--data DIR/videos DIR/photos …` over the same
    /// files (which draw the same crops) name the same cache.
    public static func fingerprint(clips: [VideoClip], photos: [RGBPlanes]) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100000001b3 } }
        func mix(_ image: RGBPlanes) {
            mix("\(image.width)x\(image.height)".utf8)
            mix(stride(from: 0, to: image.bytes.count, by: max(1, image.bytes.count / 4096)).lazy.map { image.bytes[$0] })
        }
        for clip in clips {
            mix("\(clip.name.split(separator: "/").last ?? ""):\(clip.frames.count):".utf8)
            if let f = clip.frames.first { mix(f) }
        }
        for photo in photos { mix(photo) }
        return String(hash, radix: 16)
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

    /// Two frames of a real clip `gap` apart (1 … 4, random) with no recorded frame between them for an odd gap: a
    /// sample whose target the teacher supplies. Its `middle` is empty until then.
    public func pair(size: Int, rng: inout SeededRandom) -> TrainingSample? {
        let gap = 1 + rng.int(4)
        let candidates = clips.filter { usable($0, size: size, span: gap) }
        guard !candidates.isEmpty else { return nil }
        let clip = candidates[rng.int(candidates.count)]
        let split = Int(Double(clip.frames.count) * (1 - holdOut))
        guard split - gap > 0 else { return nil }
        let i = rng.int(split - gap)
        let f = clip.frames[i]
        let x = rng.int(f.width - size + 1), y = rng.int(f.height - size + 1)
        return TrainingSample(size: size, first: f.crop(x: x, y: y, size: size), middle: [],
                              last: clip.frames[i + gap].crop(x: x, y: y, size: size), t: 0.5, middleFromTeacher: true)
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
