import Foundation

/// Flying-Chairs-style triplets made from photos: a background window moving with a random affine motion and one to
/// three patches cut from other photos moving independently on top of it (occlusion). Every layer's position is a
/// function of time, so the frame at any t is exact ground truth.
public struct SyntheticScenes {
    /// `affine`: the scenes above (the shipped models' data). `layered`: two to four patches over the background, each
    /// layer with its own perspective motion, brightness change and small non-rigid deformation, and patches that
    /// turn and accelerate (`SyntheticScenes+Layered.swift`).
    public enum Kind: String, Sendable, CaseIterable { case affine, layered }

    public let photos: [RGBPlanes]
    /// Largest displacement over the whole gap, in pixels (background; foreground patches move up to 1.5×).
    public var maxMotion: Float
    public var kind: Kind

    public init(photos: [RGBPlanes], maxMotion: Float = 20, kind: Kind = .affine) {
        precondition(!photos.isEmpty, "synthetic scenes need at least one photo")
        self.photos = photos; self.maxMotion = maxMotion; self.kind = kind
    }

    /// A layer's motion: at time τ an output pixel p sees the source point
    /// centre + R(θ₀ + τ·dθ)·(p − c)/(s₀·(1 + τ·ds)) − τ·d (d: the content's displacement over the gap).
    struct Motion {
        var centre: (Float, Float), angle: Float, dAngle: Float, scale: Float, dScale: Float, d: (Float, Float)

        func source(_ px: Float, _ py: Float, _ c: Float, _ tau: Float) -> (Float, Float) {
            let a = angle + tau * dAngle, s = scale * (1 + tau * dScale)
            let (cosA, sinA) = (Foundation.cos(a), Foundation.sin(a))
            let qx = (px - c) / s, qy = (py - c) / s
            return (centre.0 + cosA * qx - sinA * qy - tau * d.0, centre.1 + sinA * qx + cosA * qy - tau * d.1)
        }
    }

    struct Patch { var photo: Int, motion: Motion, position: (Float, Float), velocity: (Float, Float), radius: (Float, Float), round: Bool }

    /// Frames at 0, t and 1, each size×size.
    public func triplet(size: Int, t: Float, rng: inout SeededRandom) -> TrainingSample {
        frames(size: size, times: [0, t, 1], rng: &rng).withT(t)
    }

    func randomMotion(_ photo: RGBPlanes, size: Int, magnitude: Float, rng: inout SeededRandom) -> Motion {
        let margin = Float(size) * 0.75 + magnitude
        let cx = rng.uniform(min(margin, Float(photo.width) / 2), max(Float(photo.width) - margin, Float(photo.width) / 2))
        let cy = rng.uniform(min(margin, Float(photo.height) / 2), max(Float(photo.height) - margin, Float(photo.height) / 2))
        let r = rng.uniform(0, magnitude), dir = rng.uniform(0, 2 * .pi)
        return Motion(centre: (cx, cy), angle: rng.uniform(-0.1, 0.1), dAngle: rng.uniform(-0.06, 0.06),
                      scale: rng.uniform(0.7, 1.3), dScale: rng.uniform(-0.06, 0.06),
                      d: (r * Foundation.cos(dir), r * Foundation.sin(dir)))
    }

    func frames(size: Int, times: [Float], rng: inout SeededRandom) -> [[Float]] {
        if kind == .layered { return layeredFrames(size: size, times: times, rng: &rng) }
        let bgIndex = rng.int(photos.count)
        let bg = randomMotion(photos[bgIndex], size: size, magnitude: maxMotion, rng: &rng)
        var patches: [Patch] = []
        for _ in 0..<(1 + rng.int(3)) {
            let p = rng.int(photos.count)
            let speed = rng.uniform(0, maxMotion * 1.5), dir = rng.uniform(0, 2 * .pi)
            patches.append(Patch(photo: p, motion: randomMotion(photos[p], size: size, magnitude: 0, rng: &rng),
                                 position: (rng.uniform(0, Float(size)), rng.uniform(0, Float(size))),
                                 velocity: (speed * Foundation.cos(dir), speed * Foundation.sin(dir)),
                                 radius: (rng.uniform(Float(size) / 10, Float(size) / 3), rng.uniform(Float(size) / 10, Float(size) / 3)),
                                 round: rng.bool()))
        }
        let c = Float(size) / 2, n = size * size
        return times.map { tau in
            var out = [Float](repeating: 0, count: 3 * n)
            let background = photos[bgIndex]
            for y in 0..<size { for x in 0..<size {
                let (sx, sy) = bg.source(Float(x), Float(y), c, tau)
                for ch in 0..<3 { out[ch * n + y * size + x] = background.sample(ch, sx, sy) }
            } }
            for p in patches {
                let px = p.position.0 + tau * p.velocity.0, py = p.position.1 + tau * p.velocity.1
                let photo = photos[p.photo]
                for y in 0..<size { for x in 0..<size {
                    // Patch-local coordinates: the patch translates with its velocity and turns/zooms with its motion.
                    let lx = Float(x) - px, ly = Float(y) - py
                    let inside: Float
                    if p.round {
                        let r = ((lx / p.radius.0) * (lx / p.radius.0) + (ly / p.radius.1) * (ly / p.radius.1)).squareRoot()
                        inside = min(1, max(0, (1 - r) * min(p.radius.0, p.radius.1) + 0.5))
                    } else {
                        let e = min(p.radius.0 - Swift.abs(lx), p.radius.1 - Swift.abs(ly))
                        inside = min(1, max(0, e + 0.5))
                    }
                    guard inside > 0 else { continue }
                    let (sx, sy) = p.motion.source(lx + c, ly + c, c, tau)
                    for ch in 0..<3 {
                        let i = ch * n + y * size + x
                        out[i] = out[i] * (1 - inside) + photo.sample(ch, sx, sy) * inside
                    }
                } }
            }
            return out
        }
    }
}

extension Array where Element == [Float] {
    func withT(_ t: Float) -> TrainingSample {
        TrainingSample(size: Int((Double(self[0].count) / 3).squareRoot()), first: self[0], middle: self[1], last: self[2], t: t)
    }
}
