import Frames

/// Test-time augmentation: the model runs on symmetric versions of the same gap and the frames are averaged.
/// Mirroring the pair left to right, flipping it top to bottom, or swapping the two frames (t becomes 1 − t), leave
/// the true in-between frame the same (mirrored or flipped back), so each pass is another estimate of it; their
/// errors are partly independent, and the mean is closer (the self-ensembling of SepConv++; RIFE's ensemble option
/// swaps the frames). Each pass costs a full model run.
public final class SymmetryEnsemble: FrameInterpolator, FlowScalable {
    /// The versions of the gap that are run, in the order their frames are summed.
    public enum Pass: String, CaseIterable, Sendable {
        case identity, mirrored, reversed, mirroredReversed
        /// Flipped top to bottom; rotated is mirrored and flipped (a half turn).
        case flipped, rotated, flippedReversed, rotatedReversed
        var mirrors: Bool { [.mirrored, .mirroredReversed, .rotated, .rotatedReversed].contains(self) }
        var flips: Bool { [.flipped, .rotated, .flippedReversed, .rotatedReversed].contains(self) }
        var reverses: Bool { [.reversed, .mirroredReversed, .flippedReversed, .rotatedReversed].contains(self) }
    }

    public let base: FrameInterpolator
    public let passes: [Pass]
    public let info: ModelInfo

    /// The passes for a count: 1 is the model alone, 2 adds the swapped frames, 4 adds the mirror image of both, 8 adds
    /// the upside-down image of those four.
    /// Swapping is the better second pass: it helps RIFE v4.25 far more than mirroring, and the other models as much
    /// (docs/BENCHMARKS.md, "Ensembles"). For a model that already
    /// averages both frame orders the swapped passes would repeat the others, so only the mirror (and, for 8, the
    /// upside-down) images are added.
    public static func passes(count: Int, swapSymmetric: Bool = false) -> [Pass]? {
        switch count {
        case 1: return [.identity]
        case 2: return [.identity, swapSymmetric ? .mirrored : .reversed]
        case 4: return swapSymmetric ? [.identity, .mirrored] : [.identity, .mirrored, .reversed, .mirroredReversed]
        case 8: return swapSymmetric ? [.identity, .mirrored, .flipped, .rotated] : Pass.allCases
        default: return nil
        }
    }

    public init(_ base: FrameInterpolator, passes: [Pass]) {
        precondition(!passes.isEmpty, "an ensemble needs a pass")
        self.base = base; self.passes = passes
        let i = base.info
        info = ModelInfo(name: i.name, summary: "\(i.summary), mean of \(passes.count) symmetric passes", arbitraryT: i.arbitraryT,
                         contextBefore: i.contextBefore, contextAfter: i.contextAfter, needsWeights: i.needsWeights,
                         swapSymmetric: i.swapSymmetric)
    }

    /// An ensemble of `count` passes (1, 2, 4 or 8) chosen for `base` (see `passes(count:swapSymmetric:)`).
    public convenience init?(_ base: FrameInterpolator, count: Int) {
        guard let passes = Self.passes(count: count, swapSymmetric: base.info.swapSymmetric) else { return nil }
        self.init(base, passes: passes)
    }

    public var scale: Float {
        get { (base as? FlowScalable)?.scale ?? 1 }
        set { (base as? FlowScalable)?.scale = newValue }
    }

    public func interpolate(_ window: FrameWindow, at times: [Float]) throws -> [Image] {
        // Summed in place into the first pass's frames (no copies), in pass order, so the bytes do not depend on threads.
        var sums: [Image] = []
        for pass in passes {
            var w = window
            // Mirroring and flipping commute and each undoes itself, so the same transform maps the frames back.
            let transform: (Image) -> Image = { image in
                let m = pass.mirrors ? image.mirrored() : image
                return pass.flips ? m.flipped() : m
            }
            if pass.mirrors || pass.flips {
                w = FrameWindow(before: w.before.map(transform), left: transform(w.left), right: transform(w.right),
                                after: w.after.map(transform))
            }
            if pass.reverses {
                w = FrameWindow(before: w.after.reversed(), left: w.right, right: w.left, after: w.before.reversed())
            }
            var frames = try base.interpolate(w, at: pass.reverses ? times.map { 1 - $0 } : times)
            if pass.mirrors || pass.flips { frames = frames.map(transform) }
            if sums.isEmpty { sums = frames; continue }
            for k in sums.indices {
                sums[k].data.withUnsafeMutableBufferPointer { acc in
                    frames[k].data.withUnsafeBufferPointer { f in for j in acc.indices { acc[j] += f[j] } }
                }
            }
        }
        if passes.count > 1 {
            let inverse = 1 / Float(passes.count)
            for k in sums.indices { sums[k].data.withUnsafeMutableBufferPointer { acc in for j in acc.indices { acc[j] *= inverse } } }
        }
        return sums
    }
}
