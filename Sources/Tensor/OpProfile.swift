import Foundation

/// Where a training step spends its time, per operation: each recorded result is charged the time since the
/// previous one (its kernel ran just before it was recorded), and `backward()` charges each result's backward
/// function and the summing of gradients. Only on while `Tensor.profile` is set (`tween bench train --profile`).
public final class OpProfile: @unchecked Sendable {
    public struct Entry: Sendable { public var forward = 0.0, backward = 0.0, calls = 0 }
    /// Seconds by operation name (the Swift function that recorded the result) and output shape.
    public private(set) var entries: [String: Entry] = [:]
    private var mark = ContinuousClock.now

    public init() {}

    /// Starts charging from now (call before each forward pass).
    public func restart() { mark = ContinuousClock.now }

    public static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    func chargeForward(_ op: StaticString, _ shape: [Int]) {
        let now = ContinuousClock.now
        entries[Self.key(op, shape), default: Entry()].forward += Self.seconds(now - mark)
        entries[Self.key(op, shape), default: Entry()].calls += 1
        mark = now
    }

    func chargeBackward(_ op: StaticString, _ shape: [Int], since start: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        entries[Self.key(op, shape), default: Entry()].backward += Self.seconds(now - start)
        mark = now
    }

    /// Time not inside an operation: charged by name alone (the optimiser step, stacking a batch).
    public func charge(_ name: String, forward: Double = 0, backward: Double = 0) {
        entries[name + " ", default: Entry()].forward += forward
        entries[name + " ", default: Entry()].backward += backward
    }

    static func key(_ op: StaticString, _ shape: [Int]) -> String {
        let name = "\(op)".split(separator: "(").first.map(String.init) ?? "\(op)"
        return name + " " + shape.map(String.init).joined(separator: "×")
    }

    /// Totals by operation name, largest first: (name, forward s, backward s, calls).
    public var byName: [(String, Double, Double, Int)] {
        var out: [String: (Double, Double, Int)] = [:]
        for (k, e) in entries {
            let name = String(k.split(separator: " ", maxSplits: 1).first ?? "")
            let o = out[name] ?? (0, 0, 0)
            out[name] = (o.0 + e.forward, o.1 + e.backward, o.2 + e.calls)
        }
        return out.map { ($0.key, $0.value.0, $0.value.1, $0.value.2) }.sorted { $0.1 + $0.2 > $1.1 + $1.2 }
    }

    /// Entries by name and shape, largest first.
    public var byShape: [(String, Entry)] {
        entries.map { ($0.key, $0.value) }.sorted { $0.1.forward + $0.1.backward > $1.1.forward + $1.1.backward }
    }
}
