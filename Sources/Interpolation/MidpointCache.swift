import Frames
import Models

/// Reaches any t with a model that only synthesises the midpoint, by recursive halving: the midpoint of the
/// pair, then of the half that holds t, and so on, up to `maxHalvings` levels, taking the nearest frame
/// reached. Midpoints are cached per pair, so 4× needs three model calls per pair, not four.
final class MidpointCache {
    let interpolator: FrameInterpolator
    let maxHalvings: Int
    private var pair: Int?
    private var cache: [Double: Image] = [:]

    init(interpolator: FrameInterpolator, maxHalvings: Int) {
        self.interpolator = interpolator; self.maxHalvings = maxHalvings
    }

    func forget(before index: Int) {
        if let p = pair, p < index { pair = nil; cache = [:] }
    }

    func interpolate(_ window: FrameWindow, pair index: Int, at times: [Float]) throws -> [Image] {
        if pair != index { pair = index; cache = [0: window.left, 1: window.right] }
        return try times.map { try approach(Double($0), window) }
    }

    private func approach(_ t: Double, _ window: FrameWindow) throws -> Image {
        var a = 0.0, b = 1.0
        for _ in 0..<maxHalvings {
            let m = (a + b) / 2
            if cache[m] == nil {
                let w = FrameWindow(before: window.before, left: cache[a]!, right: cache[b]!, after: window.after)
                cache[m] = try interpolator.interpolate(w, at: [0.5])[0]
            }
            if t == m { return cache[m]! }
            if t < m { b = m } else { a = m }
        }
        let candidates = [a, (a + b) / 2, b].filter { cache[$0] != nil }
        let best = candidates.min { abs($0 - t) < abs($1 - t) }!
        return cache[best]!
    }
}
