import Foundation
import Tensor

/// Learning rate as a function of the step (0-based).
public enum Schedule: Sendable {
    case constant(Float)
    /// Multiplied by `gamma` every `every` steps.
    case step(Float, every: Int, gamma: Float)
    /// Cosine decay from the base rate to `floor` over `steps`, after a linear warm-up.
    case cosine(Float, steps: Int, warmup: Int = 0, floor: Float = 0)
    /// Constant until step `start`, then a cosine decay to `floor` at `steps` (a budgeted run's ending; a resumed run
    /// that restarts its decay moves `start` up to where it resumes).
    case decayingTail(Float, start: Int, steps: Int, floor: Float)
    /// `base` scaled by a linear ramp from 1/`steps` at step `start` to 1 at `start + steps - 1`: a run that restarts
    /// from its weights without its optimiser's moments (whose first updates would otherwise be full-size steps in
    /// directions the fresh moments have not yet averaged).
    indirect case warmup(Schedule, start: Int, steps: Int)

    public func rate(at step: Int) -> Float {
        switch self {
        case .constant(let lr): return lr
        case .step(let lr, let every, let gamma): return lr * pow(gamma, Float(step / max(1, every)))
        case .cosine(let lr, let steps, let warmup, let floor):
            if step < warmup { return lr * Float(step + 1) / Float(warmup) }
            let p = min(1, Float(step - warmup) / Float(max(1, steps - warmup)))
            return floor + (lr - floor) * 0.5 * (1 + cos(.pi * p))
        case .decayingTail(let lr, let start, let steps, let floor):
            guard step >= start else { return lr }
            let p = min(1, Float(step - start) / Float(max(1, steps - start)))
            return floor + (lr - floor) * 0.5 * (1 + cos(.pi * p))
        case .warmup(let base, let start, let steps):
            let ramp = step < start ? 1 : min(1, Float(step - start + 1) / Float(max(1, steps)))
            return base.rate(at: step) * ramp
        }
    }
}

/// Adam (Kingma & Ba) and AdaMax, with L2 weight decay added to the gradient (PyTorch's `weight_decay`) or
/// decoupled (AdamW).
public final class Adam {
    public enum Variant: Sendable { case adam, adamax }
    public let parameters: [Tensor]
    public var schedule: Schedule
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool, variant: Variant
    public private(set) var step = 0
    /// Updates since the moments were last zeroed (their bias correction); equals `step` unless a checkpoint of the
    /// other variant was restored, which keeps the schedule's step but not moments of another kind.
    public private(set) var momentStep = 0
    var m: [[Float]], v: [[Float]]

    public init(_ parameters: [Tensor], schedule: Schedule, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false, variant: Variant = .adam) {
        self.parameters = parameters; self.schedule = schedule; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.decoupled = decoupled; self.variant = variant
        m = parameters.map { [Float](repeating: 0, count: $0.count) }; v = m
    }

    /// One update from the parameters' gradients (parameters without a gradient are left alone), then clears them.
    public func update() {
        let lr = schedule.rate(at: step)
        step += 1
        momentStep += 1
        let c1 = 1 - pow(beta1, Float(momentStep)), c2 = 1 - pow(beta2, Float(momentStep))
        let (beta1, beta2, eps, weightDecay, decoupled, variant) = (beta1, beta2, eps, weightDecay, decoupled, variant)
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            // Through pointers: subscripting the nested moment arrays element by element cost 70 ms a step for
            // Super SloMo's 1.2 M parameters (uniqueness checks on every write). Same arithmetic, same bytes.
            g.data.withUnsafeBufferPointer { g in p.data.withUnsafeMutableBufferPointer { w in
                m[i].withUnsafeMutableBufferPointer { m in v[i].withUnsafeMutableBufferPointer { v in
                    for j in 0..<w.count {
                        var grad = g[j]
                        if weightDecay != 0 && !decoupled { grad += weightDecay * w[j] }
                        m[j] = beta1 * m[j] + (1 - beta1) * grad
                        switch variant {
                        case .adam:
                            v[j] = beta2 * v[j] + (1 - beta2) * grad * grad
                            w[j] -= lr * (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
                        case .adamax:
                            v[j] = max(beta2 * v[j], Swift.abs(grad) + eps)
                            w[j] -= lr / c1 * m[j] / v[j]
                        }
                        if weightDecay != 0 && decoupled { w[j] -= lr * weightDecay * w[j] }
                    }
                } }
            } }
            p.zeroGrad()
        }
    }

    /// The optimiser's moments, for resumable checkpoints.
    public var state: [String: Tensor] {
        var out: [String: Tensor] = ["step": Tensor(scalar: Float(step)), "moment_step": Tensor(scalar: Float(momentStep)),
                                     "variant": Tensor(scalar: variant == .adam ? 0 : 1)]
        for i in 0..<parameters.count {
            out["m.\(i)"] = Tensor(shape: [m[i].count], data: m[i]); out["v.\(i)"] = Tensor(shape: [v[i].count], data: v[i])
        }
        return out
    }

    /// Fresh moments at a schedule step: a run restarted from its weights alone.
    public func restart(at step: Int) {
        self.step = step
        momentStep = 0
        m = parameters.map { [Float](repeating: 0, count: $0.count) }; v = m
    }

    public func restore(_ state: [String: Tensor]) {
        step = Int(state["step"]?.data.first ?? 0)
        // Moments of the other variant mean something else (AdaMax keeps a running maximum, not a mean square): start
        // them afresh, keeping the schedule's step.
        let saved = state["variant"].map { $0.data.first == 0 ? Variant.adam : .adamax }
        if let saved, saved != variant {
            momentStep = 0
            m = parameters.map { [Float](repeating: 0, count: $0.count) }; v = m
            return
        }
        momentStep = Int(state["moment_step"]?.data.first ?? Float(step))
        for i in 0..<parameters.count {
            if let t = state["m.\(i)"], t.count == m[i].count { m[i] = t.data }
            if let t = state["v.\(i)"], t.count == v[i].count { v[i] = t.data }
        }
    }
}
