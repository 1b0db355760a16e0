import Kernels

/// A dense float32 tensor, row-major (the last dimension contiguous); images are NCHW.
///
/// Operations build a graph as they run: a result remembers its inputs and how to send a gradient back to them,
/// so `backward()` on a scalar loss fills `grad` of every tensor that `requiresGrad` (a tape, kept by the
/// results themselves). Inside `Tensor.inferenceMode { }` nothing is recorded.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public var data: [Float]
    public var grad: Tensor?
    /// Set on parameters and on inputs whose gradient is wanted.
    public var requiresGrad: Bool
    /// How this tensor was made: its inputs and the function that maps its gradient onto theirs.
    var parents: [Tensor] = []
    var backwardFunction: ((Tensor) -> [Tensor?])?
    /// The operation that made it (for `OpProfile`).
    var op: StaticString = ""

    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape; self.data = data; self.requiresGrad = requiresGrad
    }

    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, data: Tensor.zeroedStorage(shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public convenience init(scalar: Float) { self.init(shape: [], data: [scalar]) }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    public var scalar: Float { precondition(count == 1); return data[0] }
    public var description: String { "Tensor\(shape)" }

    /// Whether an operation on this tensor should be recorded.
    var tracked: Bool { !Tensor.inferenceOnly && (requiresGrad || backwardFunction != nil) }

    nonisolated(unsafe) static var inferenceOnly = false
    /// When set, recorded operations and their backward functions are timed into it.
    nonisolated(unsafe) public static var profile: OpProfile?

    /// Runs `body` without recording any operation (no gradients, no graph kept alive).
    public static func inferenceMode<T>(_ body: () throws -> T) rethrows -> T {
        let saved = inferenceOnly
        inferenceOnly = true
        defer { inferenceOnly = saved }
        return try body()
    }

    /// A result of an operation; records `backward` when any input is tracked.
    static func result(_ shape: [Int], _ data: [Float], inputs: [Tensor], op: StaticString = #function,
                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        let t = Tensor(shape: shape, data: data)
        if !inferenceOnly && inputs.contains(where: { $0.tracked }) {
            t.parents = inputs
            t.backwardFunction = backward
            t.op = op
            profile?.chargeForward(op, shape)
        }
        return t
    }

    /// A copy without history.
    public func detached() -> Tensor { Tensor(shape: shape, data: data) }

    /// Back-propagates from this tensor (a scalar, or with an explicit `seed` gradient of the same shape).
    public func backward(seed: Tensor? = nil) {
        let start = seed ?? Tensor(repeating: 1, shape: shape)
        precondition(start.shape == shape, "seed gradient shape \(start.shape) ≠ \(shape)")
        // Topological order by depth-first search; each node's gradient is complete before it is propagated.
        var order: [Tensor] = [], visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if visited.contains(ObjectIdentifier(t)) { continue }
            visited.insert(ObjectIdentifier(t))
            stack.append((t, true))
            for p in t.parents where p.tracked && !visited.contains(ObjectIdentifier(p)) { stack.append((p, false)) }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        for t in order.reversed() {
            guard let g = grads[ObjectIdentifier(t)] else { continue }
            if t.requiresGrad { t.grad = t.grad.map { $0.adding(g) } ?? g.detached() }
            guard let f = t.backwardFunction else { continue }
            let started = Tensor.profile == nil ? nil : ContinuousClock.now
            let parentGrads = f(g)
            if let started { Tensor.profile?.chargeBackward(t.op, t.shape, since: started) }
            let summing = Tensor.profile == nil ? nil : ContinuousClock.now
            for (p, pg) in zip(t.parents, parentGrads) where p.tracked {
                guard let pg else { continue }
                let id = ObjectIdentifier(p)
                grads[id] = grads[id].map { $0.adding(pg) } ?? pg
            }
            if let summing { Tensor.profile?.chargeBackward("summing gradients", [], since: summing) }
            grads[ObjectIdentifier(t)] = nil   // sent on: its storage can be reused
        }
    }

    /// Elementwise sum of two same-shaped tensors, untracked (gradient accumulation).
    func adding(_ other: Tensor) -> Tensor {
        precondition(shape == other.shape)
        return Tensor(shape: shape, data: Tensor.binary(self, other, .add, +).data)
    }

    public func zeroGrad() { grad = nil }

    deinit {
        // Parameters' storage stays theirs; recorded results' goes back only while training recycles it.
        if !requiresGrad && (Tensor.recyclesRecorded || Tensor.inferenceOnly && backwardFunction == nil) { BufferPool.shared.give(&data) }
    }
}
