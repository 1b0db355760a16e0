import Kernels
import Tensor

/// A network piece: maps a tensor to a tensor and owns named parameters. Names are PyTorch state-dict keys
/// relative to the layer ("weight", "bias", "0.weight", …), so official checkpoints load without renaming.
public protocol Layer: AnyObject {
    func callAsFunction(_ x: Tensor) -> Tensor
    /// Direct parameters and buffers of this layer, by key.
    var ownTensors: [(String, Tensor)] { get }
    /// Sub-layers, by key prefix.
    var children: [(String, Layer)] { get }
    /// Keys among `ownTensors` that are buffers (saved and loaded, not trained).
    var bufferKeys: Set<String> { get }
}

extension Layer {
    public var ownTensors: [(String, Tensor)] { [] }
    public var children: [(String, Layer)] { [] }
    public var bufferKeys: Set<String> { [] }

    /// Every tensor of the layer tree with its full key, in a stable order.
    public func stateDict(prefix: String = "") -> [(String, Tensor)] {
        var out = ownTensors.map { (prefix + $0.0, $0.1) }
        for (name, child) in children { out += child.stateDict(prefix: prefix + name + ".") }
        return out
    }

    /// The trainable tensors (buffers such as batch-norm running statistics left out).
    public func parameters(prefix: String = "") -> [(String, Tensor)] {
        var out = ownTensors.filter { !bufferKeys.contains($0.0) }.map { (prefix + $0.0, $0.1) }
        for (name, child) in children { out += child.parameters(prefix: prefix + name + ".") }
        return out
    }

    /// Copies values from a checkpoint, checking every key and shape; all problems are reported in one error.
    /// Keys under `ignoring` prefixes (training-only parts a checkpoint may carry) are accepted and left unused.
    public func load(_ tensors: [String: Tensor], source: String = "checkpoint", ignoring: [String] = []) throws {
        let mine = stateDict()
        var problems: [String] = []
        let known = Set(mine.map(\.0))
        for (key, t) in mine {
            guard let src = tensors[key] else { problems.append("missing \(key) \(t.shape)"); continue }
            if src.shape != t.shape { problems.append("\(key): shape \(src.shape) in the file, \(t.shape) in the model") }
        }
        problems += Self.unexpectedKeys(in: tensors, known: known, ignoring: ignoring)
        if !problems.isEmpty { throw LoadError(source: source, problems: problems) }
        // NaN or infinite weights (a damaged file, a diverged run) would make black or garbage frames without a word.
        let damaged = mine.compactMap { key, _ -> String? in
            let bad = tensors[key]!.data.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            return bad == 0 ? nil : "\(key) (\(bad) of \(tensors[key]!.count))"
        }
        if !damaged.isEmpty { throw NonFiniteWeightsError(source: source, tensors: damaged) }
        for (key, t) in mine { t.data = tensors[key]!.data }
    }

    /// A checkpoint's keys that this network does not have, outside the `ignoring` prefixes, as load problems.
    static func unexpectedKeys(in tensors: [String: Tensor], known: Set<String>, ignoring: [String]) -> [String] {
        tensors.keys.sorted().filter { !known.contains($0) && !ignoring.contains(where: $0.hasPrefix) }
            .map { "unexpected \($0) \(tensors[$0]!.shape)" }
    }
}

/// A weight file whose values include NaN or infinity.
public struct NonFiniteWeightsError: Error, CustomStringConvertible {
    public let source: String
    public let tensors: [String]
    public var description: String {
        "\(source): holds NaN or infinite values in \(tensors.count == 1 ? "" : "\(tensors.count) tensors: ")\(tensors.prefix(3).joined(separator: ", "))\(tensors.count > 3 ? ", …" : ""); the file is damaged or comes from a run that diverged"
    }
}

public struct LoadError: Error, CustomStringConvertible {
    public let source: String
    public let problems: [String]
    public init(source: String, problems: [String]) { self.source = source; self.problems = problems }
    public var description: String {
        "\(source): does not match the model (\(problems.count) problem\(problems.count == 1 ? "" : "s")): " + problems.joined(separator: "; ")
    }
}

/// Deterministic parameter initialisation (Kaiming-uniform as PyTorch's default for conv layers).
public struct Initializer {
    var state: UInt64
    public init(seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 | 1 }
    public mutating func uniform(_ n: Int, bound: Float) -> [Float] {
        (0..<n).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * bound
        }
    }
}

public final class Conv2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int, dilation: Int, groups: Int
    public let paddingMode: PaddingMode

    public init(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros, init rng: inout Initializer) {
        let fanIn = cin / groups * kernel * kernel, bound = 1 / Float(fanIn).squareRoot()
        weight = Tensor(shape: [cout, cin / groups, kernel, kernel], data: rng.uniform(cout * fanIn, bound: bound), requiresGrad: true)
        self.bias = bias ? Tensor(shape: [cout], data: rng.uniform(cout, bound: bound), requiresGrad: true) : nil
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups
        self.paddingMode = paddingMode
    }

    public var ownTensors: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode)
    }

    /// The convolution followed by `activation` (fused in inference).
    public func callAsFunction(_ x: Tensor, then activation: Activation) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                 paddingMode: paddingMode, activation: activation)
    }

    /// The convolution followed by a PReLU with `slopes` (fused in inference).
    public func callAsFunction(_ x: Tensor, thenPReLU slopes: Tensor) -> Tensor {
        x.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
                 paddingMode: paddingMode, prelu: slopes)
    }

    /// The geometry of this layer on an input of `channels` × `height` × `width`.
    func geometry(channels: Int, height: Int, width: Int) -> ConvGeometry {
        ConvGeometry(inChannels: channels, outChannels: weight.shape[0], inHeight: height, inWidth: width,
                     kernel: weight.shape[2], stride: stride, pad: padding, dilation: dilation, groups: groups,
                     padding: paddingMode)
    }

    /// The convolution of the channel concatenation of `parts` (read in place where it can be), then `activation`
    /// or a PReLU with `slopes`.
    public func callAsFunction(concatenationOf parts: [Tensor], then activation: Activation = .none,
                               thenPReLU slopes: Tensor? = nil) -> Tensor {
        let g = geometry(channels: parts.map { $0.shape[1] }.reduce(0, +), height: parts[0].shape[2], width: parts[0].shape[3])
        if let slopes { return Tensor.conv2d(concatenationOf: parts, weight, bias: bias, geometry: g, prelu: slopes) }
        return Tensor.conv2d(concatenationOf: parts, weight, bias: bias, geometry: g, activation: activation)
    }
}

public final class ConvTranspose2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int, padding: Int

    public init(_ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                init rng: inout Initializer) {
        let fan = cout * kernel * kernel, bound = 1 / Float(fan).squareRoot()
        weight = Tensor(shape: [cin, cout, kernel, kernel], data: rng.uniform(cin * fan, bound: bound), requiresGrad: true)
        self.bias = bias ? Tensor(shape: [cout], data: rng.uniform(cout, bound: bound), requiresGrad: true) : nil
        self.stride = stride; self.padding = padding
    }

    public var ownTensors: [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.convTranspose2d(weight, bias: bias, stride: stride, padding: padding) }

    /// The transposed convolution followed by a PReLU with `slopes` (fused in inference).
    public func callAsFunction(_ x: Tensor, thenPReLU slopes: Tensor) -> Tensor {
        x.convTranspose2d(weight, bias: bias, stride: stride, padding: padding, prelu: slopes)
    }
}

/// An activation, pooling or resampling step with no parameters.
public final class Function: Layer {
    let body: (Tensor) -> Tensor
    /// The activation this function is, which a preceding convolution in a `Sequential` can fuse.
    let activation: Activation?
    public init(_ body: @escaping (Tensor) -> Tensor) { self.body = body; activation = nil }
    init(_ activation: Activation, _ body: @escaping (Tensor) -> Tensor) { self.body = body; self.activation = activation }
    public func callAsFunction(_ x: Tensor) -> Tensor { body(x) }

    public static func relu() -> Function { Function(.relu) { $0.relu() } }
    public static func leakyReLU(_ s: Float = 0.1) -> Function { Function(.leakyReLU(s)) { $0.leakyReLU(s) } }
    public static func sigmoid() -> Function { Function { $0.sigmoid() } }
    public static func avgPool(_ k: Int) -> Function { Function { $0.avgPool(k) } }
    public static func upsample2x(alignCorners: Bool = false) -> Function {
        Function { $0.resized(height: $0.shape[2] * 2, width: $0.shape[3] * 2, mode: .bilinear(alignCorners: alignCorners)) }
    }
}

/// Layers applied in order; children are keyed "0", "1", … as in `torch.nn.Sequential`.
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }
    public var children: [(String, Layer)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var x = x, i = 0
        while i < layers.count {
            // A convolution followed by an activation runs as one (fused in inference; same bytes either way).
            if let conv = layers[i] as? Conv2d, i + 1 < layers.count, let a = (layers[i + 1] as? Function)?.activation {
                x = conv(x, then: a); i += 2
            } else if let conv = layers[i] as? Conv2d, i + 1 < layers.count, let prelu = layers[i + 1] as? PReLU {
                x = conv(x, thenPReLU: prelu.weight); i += 2
            } else if let deconv = layers[i] as? ConvTranspose2d, i + 1 < layers.count, let prelu = layers[i + 1] as? PReLU {
                x = deconv(x, thenPReLU: prelu.weight); i += 2
            } else {
                x = layers[i](x); i += 1
            }
        }
        return x
    }

    /// The layers on the channel concatenation of `parts`: a leading convolution (possibly inside nested
    /// Sequentials, with its activation) reads the parts in place; see `Conv2d.callAsFunction(concatenationOf:)`.
    public func callAsFunction(concatenationOf parts: [Tensor]) -> Tensor {
        var x: Tensor, rest: ArraySlice<Layer>
        if let inner = layers.first as? Sequential {
            x = inner(concatenationOf: parts); rest = layers.dropFirst()
        } else if let conv = layers.first as? Conv2d {
            if layers.count > 1, let a = (layers[1] as? Function)?.activation {
                x = conv(concatenationOf: parts, then: a); rest = layers.dropFirst(2)
            } else if layers.count > 1, let prelu = layers[1] as? PReLU {
                x = conv(concatenationOf: parts, thenPReLU: prelu.weight); rest = layers.dropFirst(2)
            } else {
                x = conv(concatenationOf: parts); rest = layers.dropFirst()
            }
        } else {
            return self(Tensor.concat(parts))
        }
        return rest.isEmpty ? x : Sequential(Array(rest))(x)
    }
}

/// PReLU with one learned slope per channel (PyTorch `nn.PReLU(c)`, key "weight", initialised to 0.25).
public final class PReLU: Layer {
    public let weight: Tensor
    public init(_ channels: Int) {
        weight = Tensor(shape: [channels], data: [Float](repeating: 0.25, count: channels), requiresGrad: true)
    }
    public var ownTensors: [(String, Tensor)] { [("weight", weight)] }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.prelu(weight) }
}
