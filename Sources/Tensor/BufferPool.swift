import Foundation

/// Recycles the storage of tensors that die in inference mode, so a model run frame after frame allocates its
/// activations once. Buffers are keyed by element count, handed out uninitialised (every kernel using them
/// overwrites its output), and the pool holds at most `limitBytes`.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    static let minimumCount = 4096
    let limitBytes = 1 << 28
    private let lock = NSLock()
    private var free: [Int: [[Float]]] = [:]
    private var heldBytes = 0
    private(set) var hits = 0

    func give(_ array: [Float]) {
        guard array.count >= BufferPool.minimumCount else { return }
        lock.lock(); defer { lock.unlock() }
        guard heldBytes + array.count * 4 <= limitBytes else { return }
        free[array.count, default: []].append(array)
        heldBytes += array.count * 4
    }

    func take(_ count: Int) -> [Float]? {
        lock.lock(); defer { lock.unlock() }
        guard var list = free[count], let a = list.popLast() else { return nil }
        free[count] = list
        heldBytes -= count * 4
        hits += 1
        return a
    }

    func drain() { lock.lock(); free = [:]; heldBytes = 0; lock.unlock() }
}

extension Tensor {
    /// Storage for an operation's output that the kernel will overwrite entirely: recycled in inference mode.
    static func outputStorage(_ count: Int) -> [Float] {
        if inferenceOnly, count >= BufferPool.minimumCount, let a = BufferPool.shared.take(count) { return a }
        return [Float](repeating: 0, count: count)
    }
}
