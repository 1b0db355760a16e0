import Tensor

/// A layer whose own tensors are one convolution's weight and bias under other names (a model's wrapper that keeps its
/// checkpoint's key names), so they widen as a `Conv2d`'s do.
public protocol ConvolutionTensors: Layer {}

extension Layer {
    /// Loads the weights of a narrower network of the same architecture so that this wider one computes exactly
    /// what the narrower one did (Net2Net's aim, Chen et al. 2016, with zero outgoing weights instead of copies):
    /// each convolution's old output channels come first with their old weights, and their weights on the new input
    /// channels are zero, so the new channels cannot change them; the new channels keep this network's own random
    /// weights. Training then grows the new channels' outgoing weights from zero (their gradient is the new
    /// activations times the upstream gradient), so a wider model goes on from a trained narrow one instead of from
    /// scratch.
    ///
    /// This holds for per-channel steps between the convolutions (activations, pooling, resizing) and for sums of
    /// equally widened tensors; a convolution whose input is a concatenation of equally wide parts (a U-Net's skip)
    /// says how many parts it reads through `inputParts`, so each part's old channels keep their place in it.
    /// Layers other than `Conv2d` must keep their shapes. A sub-network the file lacks entirely (no key of the file
    /// starts with its top-level name, as the coarser scales of a multi-scale network widened from a single-scale one)
    /// keeps this network's own initial weights: only what it feeds must widen by zero weights. Every problem is
    /// reported in one error.
    public func loadWidening(_ tensors: [String: Tensor], source: String, ignoring: [String] = [],
                             inputParts: (String) -> Int = { _ in 1 }) throws {
        var problems: [String] = []
        var updates: [(Tensor, [Float])] = []
        var known: Set<String> = []
        // A key's top-level scope: the first child's name ("scale1" in "scale1.conv1.weights"), nil for a root tensor.
        func scope(_ key: String) -> Substring? { key.firstIndex(of: ".").map { key[..<$0] } }
        let fileScopes = Set(tensors.keys.compactMap(scope))
        func visit(_ layer: Layer, prefix: String) {
            for (name, t) in layer.ownTensors {
                let key = prefix + name
                known.insert(key)
                guard let old = tensors[key] else {
                    if let s = scope(key), !fileScopes.contains(s) { continue }
                    problems.append("missing \(key) \(t.shape)"); continue
                }
                if old.shape == t.shape { updates.append((t, old.data)); continue }
                // A bias is a weight with one input channel and one tap: the same copy serves both.
                let parts = t.rank == 4 ? inputParts(key) : 1
                let (outOld, inOld, inNew) = (old.shape[0], old.rank == 4 ? old.shape[1] : 1, t.rank == 4 ? t.shape[1] : 1)
                guard layer is Conv2d || layer is ConvolutionTensors, old.rank == t.rank, t.rank == 1 || t.rank == 4, zip(old.shape, t.shape).allSatisfy({ $0 <= $1 }),
                      old.shape.dropFirst(2) == t.shape.dropFirst(2), inOld % parts == 0, inNew % parts == 0 else {
                    problems.append("\(key): shape \(old.shape) in the file cannot widen to \(t.shape)"); continue
                }
                let taps = t.shape.dropFirst(2).reduce(1, *), (partOld, partNew) = (inOld / parts, inNew / parts)
                var data = t.data
                for o in 0..<outOld {
                    // An old output channel reads nothing from the new input channels...
                    data.replaceSubrange(o * inNew * taps..<(o + 1) * inNew * taps, with: repeatElement(0, count: inNew * taps))
                    // ...and its old weights, each part's channels at the start of that part. New output channels
                    // keep this network's own initial weights and biases.
                    for p in 0..<parts {
                        let from = (o * inOld + p * partOld) * taps, to = (o * inNew + p * partNew) * taps
                        data.replaceSubrange(to..<to + partOld * taps, with: old.data[from..<from + partOld * taps])
                    }
                }
                updates.append((t, data))
            }
            for (name, child) in layer.children { visit(child, prefix: prefix + name + ".") }
        }
        visit(self, prefix: "")
        problems += Self.unexpectedKeys(in: tensors, known: known, ignoring: ignoring)
        if !problems.isEmpty { throw LoadError(source: source, problems: problems) }
        for (t, data) in updates { t.data = data }
    }
}
