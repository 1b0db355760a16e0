import Foundation
import Synchronization

/// The engine's own worker threads. A parallel loop is split into more chunks than threads (the two vCPUs run at
/// uneven speeds), chunks are claimed from an atomic counter, and the caller works too. Each chunk writes its own
/// outputs, so results are identical whatever the thread count.
public final class ThreadPool: @unchecked Sendable {
    /// Shared pool sized by `TWEEN_THREADS`, else the number of active processors.
    nonisolated(unsafe) public static var shared = ThreadPool(threads: ThreadPool.defaultThreads)

    public static var defaultThreads: Int {
        if let s = ProcessInfo.processInfo.environment["TWEEN_THREADS"], let n = Int(s), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The most threads a pool gets: four per active processor. More only add start-up and hand-over costs (a
    /// thousand threads took an 8-second job past 300 s on two cores); results are the same for any count.
    public static var maxThreads: Int { 4 * max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// A pool that runs everything on the calling thread (for work already split by an outer loop).
    public static let serial = ThreadPool(threads: 1)

    /// Replaces the shared pool (the CLI's `--threads`).
    public static func configure(threads: Int) { shared = ThreadPool(threads: threads) }

    public let threads: Int
    private let state = PoolState()

    /// `threads` between 1 and `maxThreads`.
    public init(threads: Int) {
        self.threads = min(max(1, threads), ThreadPool.maxThreads)
        for _ in 1..<self.threads {
            let state = self.state
            let t = Thread { state.workerLoop() }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit { state.shutDown() }

    /// Calls `body(i)` for every i in 0..<chunks, spread over the pool; returns when all are done.
    /// (`body` is escaping because a worker may still hold it for an instant after its last chunk.)
    public func parallelFor(_ chunks: Int, _ body: @escaping (Int) -> Void) {
        if chunks <= 0 { return }
        if threads == 1 || chunks == 1 { return Self.runSerially(chunks, body) }
        state.run(body, chunks: chunks, helpers: threads - 1)
    }

    /// Not inlined: inlined into a caller's loop, a kernel closure was compiled worse (the direct convolution ran
    /// 4–10× slower on one thread than on each of two).
    @inline(never) static func runSerially(_ chunks: Int, _ body: (Int) -> Void) {
        for i in 0..<chunks { body(i) }
    }
}

/// What the workers share; they hold it, not the pool, so a pool can go away while they sleep.
final class PoolState: @unchecked Sendable {
    private let condition = NSCondition()
    private var generation = 0
    private var body: ((Int) -> Void)?
    private var chunkCount = 0
    private var running = 0
    private var stopping = false
    private let nextChunk = Atomic<Int>(0)

    func workerLoop() {
        var seen = 0
        while true {
            condition.lock()
            while generation == seen && !stopping { condition.wait() }
            if stopping { condition.unlock(); return }
            seen = generation
            let work = body!, n = chunkCount
            condition.unlock()
            drain(work, n)
            condition.lock()
            running -= 1
            if running == 0 { condition.broadcast() }
            condition.unlock()
        }
    }

    @inline(__always) private func drain(_ work: (Int) -> Void, _ n: Int) {
        while true {
            let i = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= n { return }
            work(i)
        }
    }

    func run(_ work: @escaping (Int) -> Void, chunks: Int, helpers: Int) {
        condition.lock()
        body = work
        chunkCount = chunks
        nextChunk.store(0, ordering: .relaxed)
        running = helpers
        generation += 1
        condition.broadcast()
        condition.unlock()
        drain(work, chunks)
        condition.lock()
        while running > 0 { condition.wait() }
        body = nil
        condition.unlock()
    }

    func shutDown() {
        condition.lock(); stopping = true; condition.broadcast(); condition.unlock()
    }
}
