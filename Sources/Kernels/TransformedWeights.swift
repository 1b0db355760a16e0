import Foundation

/// Weights transformed for a kernel (Winograd's U, packed panels), kept across calls: a model run frame after
/// frame transforms each layer's weights once. Entries are found by the weights' contents (a hash, then a full
/// comparison with a kept copy), so a changed weight (training) or a reused address never returns a stale value.
final class TransformedWeights: @unchecked Sendable {
    static let shared = TransformedWeights()
    /// At most this many entries; the least recently used goes first.
    let capacity = 96
    private let lock = NSLock()
    private var entries: [(kind: String, hash: UInt64, weights: [Float], value: [Float], used: Int)] = []
    private var clock = 0

    func value(for w: UnsafePointer<Float>, count: Int, kind: String, make: () -> [Float]) -> [Float] {
        let buffer = UnsafeBufferPointer(start: w, count: count)
        // FNV-1a over the bit patterns: cheap next to any transform, and only a first filter.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(count)
        for v in buffer { hash = (hash ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 }
        lock.lock()
        clock += 1
        if let i = entries.firstIndex(where: { entry in
            entry.hash == hash && entry.kind == kind && entry.weights.count == count
                && entry.weights.withUnsafeBytes { memcmp($0.baseAddress!, w, count * 4) == 0 }
        }) {
            entries[i].used = clock
            let value = entries[i].value
            lock.unlock()
            return value
        }
        lock.unlock()
        let value = make()
        lock.lock()
        if entries.count >= capacity, let oldest = entries.indices.min(by: { entries[$0].used < entries[$1].used }) {
            entries.remove(at: oldest)
        }
        entries.append((kind, hash, Array(buffer), value, clock))
        lock.unlock()
        return value
    }
}
