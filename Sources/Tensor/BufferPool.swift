import Foundation

/// Recycles the storage of tensors that die in inference mode, so a model run frame after frame allocates its
/// activations once, and in training once `Tensor.recycleTrainingStorage` is called. Buffers are keyed by element
/// count, handed out uninitialised (every kernel using them overwrites its output) or zeroed, and the pool holds at
/// most `limitBytes`. Arrays are copy-on-write, so a buffer still shared with a live tensor is copied, not
/// overwritten, when it is written.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    static let minimumCount = 4096
    var limitBytes = 1 << 28
    private let lock = NSLock()
    private var free: [Int: [[Float]]] = [:]
    private var heldBytes = 0
    private(set) var hits = 0

    /// Whether no other array shares `array`'s storage. An array is one reference to its storage object, so the
    /// check is the standard library's uniqueness test on that reference (`BufferPoolTests` pins the layout).
    static func isUnique(_ array: inout [Float]) -> Bool {
        withUnsafeMutablePointer(to: &array) { p in
            p.withMemoryRebound(to: AnyObject.self, capacity: 1) { isKnownUniquelyReferenced(&$0.pointee) }
        }
    }

    /// Takes `array`'s storage unless another array still shares it (handing that out would only make the next
    /// writer copy it).
    func give(_ array: inout [Float]) {
        guard array.count >= BufferPool.minimumCount, BufferPool.isUnique(&array) else { return }
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

    func setLimit(_ bytes: Int) { lock.lock(); limitBytes = max(limitBytes, bytes); lock.unlock() }
}

extension Tensor {
    /// Storage for an operation's output that the kernel will overwrite entirely: recycled in inference mode.
    static func outputStorage(_ count: Int) -> [Float] {
        if inferenceOnly || recyclesRecorded, count >= BufferPool.minimumCount, let a = BufferPool.shared.take(count) { return a }
        return [Float](repeating: 0, count: count)
    }

    /// Zeroed storage, recycled where `outputStorage` would be: clearing memory already mapped costs a fraction of
    /// the page faults of a fresh allocation.
    static func zeroedStorage(_ count: Int) -> [Float] {
        if inferenceOnly || recyclesRecorded, count >= BufferPool.minimumCount, var a = BufferPool.shared.take(count) {
            a.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return a
        }
        return [Float](repeating: 0, count: count)
    }

    /// Whether storage of recorded tensors is recycled too (training).
    nonisolated(unsafe) static var recyclesRecorded = false

    /// From now on, storage of every tensor that dies (parameters excepted) is recycled, with up to `bytes` held.
    /// A training step's graph dies at its end and the next step's has the same shapes, so activations and gradients
    /// are allocated once instead of page-faulted into every step.
    public static func recycleTrainingStorage(upTo bytes: Int) {
        BufferPool.shared.setLimit(bytes)
        recyclesRecorded = true
    }
}
