import Foundation
import Tensor

/// What the teacher says about two frames [N, 3, S, S]: its frame at t = ½, its flows from t to both frames
/// [N, 4, S, S] (Fₜ→₀, Fₜ→₁, pixels) and its fusion mask [N, 1, S, S] (the weight of frame 0's warp).
public struct TeacherOutput {
    public let frame: Tensor, flow: Tensor, mask: Tensor
    public init(frame: Tensor, flow: Tensor, mask: Tensor) { self.frame = frame; self.flow = flow; self.mask = mask }
}

/// Crops at t = ½ with the teacher's outputs, computed once per crop size and seed and shared by every run and every
/// model: a float16 safetensors file, memory-mapped, with one tensor per field ([N, C, S, S]; `t` and
/// `middle_from_teacher` [N]). Fields a later model needs (flows between the inputs, other t) are more tensors in the
/// same file; readers take the fields they know. Caches written before the format had a name (crops and flows only)
/// read as caches without mask and frame.
public final class TeacherCache {
    public static let format = "tween-teacher-cache-2"
    /// Field names and channels, in the order they are stored per sample.
    static let imageFields: [(String, Int)] = [("first", 3), ("middle", 3), ("last", 3), ("flow", 4), ("mask", 1), ("frame", 3)]

    /// How a cache's crops are drawn; together with the media they decide its contents.
    public struct Settings: Equatable, Sendable {
        public var count: Int, size: Int, seed: UInt64
        public var syntheticFraction: Float = 0.5
        /// Fraction of real pairs with no recorded middle frame (the teacher's frame is the target).
        public var pairFraction: Float = 0
        public var maxGap = 2
        public var maxMotion: Float = 20
        public var scenes: SyntheticScenes.Kind = .affine
        public init(count: Int, size: Int, seed: UInt64) { self.count = count; self.size = size; self.seed = seed }

        var metadata: [String: String] {
            var m = ["size": "\(size)", "count": "\(count)", "seed": "\(seed)", "synthetic_fraction": "\(syntheticFraction)",
                     "pair_fraction": "\(pairFraction)", "max_gap": "\(maxGap)", "max_motion": "\(maxMotion)"]
            // Named only when not the first scenes, so that the names of caches drawn before the key existed hold.
            if scenes != .affine { m["scenes"] = scenes.rawValue }
            return m
        }

        /// The cache's file name: its settings, and a hash of them with the media's fingerprint.
        public func fileName(teacher: String, media: String) -> String {
            let key = ([teacher, media] + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: ";")
            var hash: UInt64 = 0xcbf29ce484222325
            for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
            return "\(teacher)-\(size)px-\(count)-seed\(seed)-\(String(hash, radix: 16)).safetensors"
        }
    }

    let file: Safetensors.Mapped
    public let count: Int, size: Int
    public var metadata: [String: String] { file.metadata }
    public var path: String { file.path }
    let times: [Float], fromTeacher: [Bool]

    public init(path: String) throws {
        file = try Safetensors.Mapped(path)
        guard let first = file.entries["first"], first.shape.count == 4, first.shape[1] == 3, first.shape[2] == first.shape[3],
              file.entries["middle"]?.shape == first.shape, file.entries["last"]?.shape == first.shape,
              file.entries["t"]?.shape == [first.shape[0]] else {
            throw Safetensors.Error(path: path, problem: "not a teacher cache (no first, middle, last and t of matching shapes)")
        }
        (count, size) = (first.shape[0], first.shape[2])
        for (name, channels) in Self.imageFields {
            if let e = file.entries[name], e.shape != [count, channels, size, size] {
                throw Safetensors.Error(path: path, problem: "teacher cache field '\(name)' has shape \(e.shape), not \([count, channels, size, size])")
            }
        }
        times = file.tensor("t")!.data
        fromTeacher = file.tensor("middle_from_teacher")?.data.map { $0 != 0 } ?? [Bool](repeating: false, count: count)
    }

    public var hasFlow: Bool { file.entries["flow"] != nil }

    /// A size×size window at (x, y) of sample `index`, converted to float.
    public func crop(_ index: Int, x: Int, y: Int, size s: Int) -> TrainingSample {
        precondition(x >= 0 && y >= 0 && x + s <= size && y + s <= size, "crop outside the cached sample")
        func read(_ name: String, _ channels: Int) -> [Float]? {
            guard file.entries[name] != nil else { return nil }
            var out = [Float](repeating: 0, count: channels * s * s)
            out.withUnsafeMutableBufferPointer { o in
                for c in 0..<channels { for r in 0..<s {
                    file.read(name, from: ((index * channels + c) * size + y + r) * size + x, count: s, into: o.baseAddress! + (c * s + r) * s)
                } }
            }
            return out
        }
        return TrainingSample(size: s, first: read("first", 3)!, middle: read("middle", 3)!, last: read("last", 3)!, t: times[index],
                              teacherFlow: read("flow", 4), teacherMask: read("mask", 1), teacherFrame: read("frame", 3),
                              middleFromTeacher: fromTeacher[index])
    }

    /// Bytes a cache of these settings holds while it is built (its float16 fields) and on disk.
    public static func bytes(_ settings: Settings, teacher: Bool) -> Double {
        let channels = (teacher ? imageFields : Array(imageFields.prefix(3))).map(\.1).reduce(0, +)
        return Double(settings.count) * Double(channels * settings.size * settings.size) * 2
    }

    /// Draws the crops, runs the teacher over them in batches of eight and writes the cache to `path` (through a
    /// temporary name). Without a teacher the cache holds the crops alone, and pairs (which need its frame) are not drawn.
    public static func build(_ settings: Settings, set: TrainingSet, teacher: (name: String, run: (Tensor, Tensor) -> TeacherOutput)?,
                             media: String, to path: String, progress: (Int) -> Void = { _ in }) throws -> TeacherCache {
        let (n, s) = (settings.count, settings.size)
        var rng = SeededRandom(seed: settings.seed ^ 0xCAC4E)
        let fields = teacher == nil ? Array(imageFields.prefix(3)) : imageFields
        var bits: [String: [UInt16]] = [:]
        for (name, channels) in fields { bits[name] = [UInt16](repeating: 0, count: n * channels * s * s) }
        var times = [UInt16](repeating: 0, count: n), fromTeacher = [UInt16](repeating: 0, count: n)
        func store(_ name: String, _ values: [Float], at index: Int) {
            let count = values.count
            bits[name]!.withUnsafeMutableBufferPointer { b in
                for i in 0..<count { b[index * count + i] = Float16(values[i]).bitPattern.littleEndian }
            }
        }
        var done = 0
        while done < n {
            var chunk: [TrainingSample] = []
            for _ in 0..<min(8, n - done) {
                // The draw for a recorded triplet is the first caches' (one uniform), so that their crops come back.
                let synthetic = rng.uniform(0, 1) < settings.syntheticFraction
                if !synthetic, teacher != nil, settings.pairFraction > 0, rng.uniform(0, 1) < settings.pairFraction / max(1e-6, 1 - settings.syntheticFraction),
                   let pair = set.pair(size: s, rng: &rng) {
                    chunk.append(pair)
                } else {
                    chunk.append(set.triplet(size: s, synthetic: synthetic, rng: &rng))
                }
            }
            let k = chunk.count
            let a = Tensor(shape: [k, 3, s, s], data: chunk.flatMap(\.first)), b = Tensor(shape: [k, 3, s, s], data: chunk.flatMap(\.last))
            let out = teacher.map { teacher in Tensor.inferenceMode { teacher.run(a, b) } }
            for (i, sample) in chunk.enumerated() {
                let plane = s * s
                store("first", sample.first, at: done + i)
                store("last", sample.last, at: done + i)
                if let out {
                    let frame = Array(out.frame.data[(i * 3 * plane)..<((i + 1) * 3 * plane)])
                    store("middle", sample.middleFromTeacher ? frame : sample.middle, at: done + i)
                    store("flow", Array(out.flow.data[(i * 4 * plane)..<((i + 1) * 4 * plane)]), at: done + i)
                    store("mask", Array(out.mask.data[(i * plane)..<((i + 1) * plane)]), at: done + i)
                    store("frame", frame, at: done + i)
                } else {
                    store("middle", sample.middle, at: done + i)
                }
                times[done + i] = Float16(sample.t).bitPattern.littleEndian
                fromTeacher[done + i] = Float16(sample.middleFromTeacher ? 1 : 0).bitPattern.littleEndian
            }
            done += k
            progress(done)
        }
        var tensors: [String: (shape: [Int], bits: [UInt16])] = ["t": ([n], times), "middle_from_teacher": ([n], fromTeacher)]
        for (name, channels) in fields { tensors[name] = ([n, channels, s, s], bits.removeValue(forKey: name)!) }
        var metadata = settings.metadata
        metadata["format"] = format; metadata["teacher"] = teacher?.name ?? "none"; metadata["media"] = media
        try Safetensors.writeHalfPrecision(tensors, to: path, metadata: metadata)
        return try TeacherCache(path: path)
    }
}
