import Foundation

/// Richer synthetic scenes: every layer (the background and two to four patches from other photos) has
/// - a perspective motion: the affine motion of the first scenes plus a homography's two perspective terms, each
///   changing linearly over the gap, so planes tilt as they move;
/// - a brightness change: a gain that changes linearly over the gap (up to ±8%), as lighting and exposure do;
/// - a small non-rigid deformation: a smooth sinusoidal warp of up to 1.5 px whose phase drifts over the gap;
/// and the patches turn (their outline with them) and accelerate, so motion is not linear in time. Every quantity is a
/// function of time, so the frame at any t is still exact ground truth.
extension SyntheticScenes {
    struct Layer {
        var photo: Int
        var motion: Motion
        /// Perspective terms at τ = 0 and their change over the gap, per pixel of distance from the centre.
        var perspective: (Float, Float), dPerspective: (Float, Float)
        var gain: Float, dGain: Float
        /// Warp amplitude (px), wave numbers (radians per px), phases and their drift over the gap.
        var warp: Float, waves: (Float, Float), phases: (Float, Float), dPhase: Float

        func source(_ px: Float, _ py: Float, _ c: Float, _ tau: Float) -> (Float, Float) {
            let ph = (phases.0 + tau * dPhase, phases.1 + tau * dPhase)
            let wx = px + warp * Foundation.sin(waves.1 * py + ph.0), wy = py + warp * Foundation.sin(waves.0 * px + ph.1)
            let gx = perspective.0 + tau * dPerspective.0, gy = perspective.1 + tau * dPerspective.1
            let w = max(0.5, 1 + gx * (wx - c) + gy * (wy - c))
            return motion.source(c + (wx - c) / w, c + (wy - c) / w, c, tau)
        }

        func brightness(_ tau: Float) -> Float { gain + tau * dGain }
    }

    struct MovingPatch {
        var layer: Layer
        var position: (Float, Float), velocity: (Float, Float), acceleration: (Float, Float)
        var radius: (Float, Float), angle: Float, dAngle: Float, round: Bool
    }

    func randomLayer(_ photo: Int, size: Int, magnitude: Float, rng: inout SeededRandom) -> Layer {
        let motion = randomMotion(photos[photo], size: size, magnitude: magnitude, rng: &rng)
        let p = 0.35 / Float(size)
        return Layer(photo: photo, motion: motion,
                     perspective: (rng.uniform(-p, p), rng.uniform(-p, p)), dPerspective: (rng.uniform(-p, p) * 0.5, rng.uniform(-p, p) * 0.5),
                     gain: rng.uniform(0.92, 1.08), dGain: rng.uniform(-0.08, 0.08),
                     warp: rng.bool() ? rng.uniform(0, 1.5) : 0, waves: (rng.uniform(0.05, 0.15), rng.uniform(0.05, 0.15)),
                     phases: (rng.uniform(0, 2 * .pi), rng.uniform(0, 2 * .pi)), dPhase: rng.uniform(-1, 1))
    }

    func layeredFrames(size: Int, times: [Float], rng: inout SeededRandom) -> [[Float]] {
        let background = randomLayer(rng.int(photos.count), size: size, magnitude: maxMotion, rng: &rng)
        var patches: [MovingPatch] = []
        for _ in 0..<(2 + rng.int(3)) {
            let layer = randomLayer(rng.int(photos.count), size: size, magnitude: 0, rng: &rng)
            let speed = rng.uniform(0, maxMotion * 1.5), dir = rng.uniform(0, 2 * .pi)
            let push = rng.uniform(0, maxMotion * 0.25), pushDir = rng.uniform(0, 2 * .pi)
            patches.append(MovingPatch(layer: layer, position: (rng.uniform(0, Float(size)), rng.uniform(0, Float(size))),
                                       velocity: (speed * Foundation.cos(dir), speed * Foundation.sin(dir)),
                                       acceleration: (push * Foundation.cos(pushDir), push * Foundation.sin(pushDir)),
                                       radius: (rng.uniform(Float(size) / 10, Float(size) / 3), rng.uniform(Float(size) / 10, Float(size) / 3)),
                                       angle: rng.uniform(0, .pi), dAngle: rng.uniform(-0.3, 0.3), round: rng.bool()))
        }
        let c = Float(size) / 2, n = size * size
        return times.map { tau in
            var out = [Float](repeating: 0, count: 3 * n)
            let photo = photos[background.photo], gain = background.brightness(tau)
            for y in 0..<size { for x in 0..<size {
                let (sx, sy) = background.source(Float(x), Float(y), c, tau)
                for ch in 0..<3 { out[ch * n + y * size + x] = min(1, photo.sample(ch, sx, sy) * gain) }
            } }
            for p in patches {
                // Position with an acceleration (τ² term), outline turning with the patch.
                let px = p.position.0 + tau * p.velocity.0 + tau * tau * p.acceleration.0
                let py = p.position.1 + tau * p.velocity.1 + tau * tau * p.acceleration.1
                let a = p.angle + tau * p.dAngle, (cosA, sinA) = (Foundation.cos(a), Foundation.sin(a))
                let photo = photos[p.layer.photo], gain = p.layer.brightness(tau)
                for y in 0..<size { for x in 0..<size {
                    let dx = Float(x) - px, dy = Float(y) - py
                    let lx = cosA * dx + sinA * dy, ly = -sinA * dx + cosA * dy
                    let inside: Float
                    if p.round {
                        let r = ((lx / p.radius.0) * (lx / p.radius.0) + (ly / p.radius.1) * (ly / p.radius.1)).squareRoot()
                        inside = min(1, max(0, (1 - r) * min(p.radius.0, p.radius.1) + 0.5))
                    } else {
                        let e = min(p.radius.0 - Swift.abs(lx), p.radius.1 - Swift.abs(ly))
                        inside = min(1, max(0, e + 0.5))
                    }
                    guard inside > 0 else { continue }
                    // The texture turns with the outline: it is read in the patch's own coordinates.
                    let (sx, sy) = p.layer.source(lx + c, ly + c, c, tau)
                    for ch in 0..<3 {
                        let i = ch * n + y * size + x
                        out[i] = out[i] * (1 - inside) + min(1, photo.sample(ch, sx, sy) * gain) * inside
                    }
                } }
            }
            return out
        }
    }
}
