import XCTest
import TestSupport
@testable import NN
@testable import Tensor
@testable import Kernels

final class TrainingTests: XCTestCase {
    /// A smooth random image: a few sinusoids.
    func image(_ size: Int, seed: Int) -> [Float] {
        var out = [Float](repeating: 0, count: size * size)
        for k in 0..<3 {
            let fx = Float((seed * 7 + k * 3) % 5 + 1) * 0.35, fy = Float((seed * 3 + k * 5) % 4 + 1) * 0.3
            let ph = Float((seed * 13 + k * 11) % 17) * 0.37
            for y in 0..<size { for x in 0..<size { out[y * size + x] += sin(fx * Float(x) + fy * Float(y) + ph) / 3 } }
        }
        return out
    }

    /// A small CNN learns to estimate a global horizontal shift between two frames (the flow a warp needs):
    /// deterministic data and initialisation, fixed steps, loss must fall from ≈0.5 to below 0.15.
    func testLearnsAGlobalTranslation() {
        let size = 12, batch = 4
        var rng = Initializer(seed: 7)
        let net = Sequential([
            Conv2d(2, 12, kernel: 3, padding: 1, init: &rng), Function.leakyReLU(0.1),
            Conv2d(12, 12, kernel: 3, padding: 1, init: &rng), Function.leakyReLU(0.1),
            Conv2d(12, 1, kernel: 3, padding: 1, init: &rng),
        ])
        let optimiser = Adam(net.parameters().map(\.1), schedule: .cosine(3e-3, steps: 300, warmup: 10))
        var first: Float = 0, last: Float = 0
        for step in 0..<300 {
            var pairs: [Float] = [], targets: [Float] = []
            for b in 0..<batch {
                let i = step * batch + b
                let shift = Float((i * 37) % 21) / 10 - 1          // −1 … 1 pixels
                let frame0 = Tensor(shape: [1, 1, size, size], data: image(size, seed: i % 50))
                var flow = [Float](repeating: shift, count: size * size); flow += [Float](repeating: 0, count: size * size)
                let frame1 = frame0.warped(by: Tensor(shape: [1, 2, size, size], data: flow))   // frame1(p) = frame0(p + s)
                pairs += frame0.data + frame1.data
                targets += [Float](repeating: shift, count: size * size)
            }
            let x = Tensor(shape: [batch, 2, size, size], data: pairs)
            let t = Tensor(shape: [batch, 1, size, size], data: targets)
            // The border pixels see padding; judge the interior.
            let loss = Loss.l1(net(x).slice(axis: 2, 2..<(size - 2)), t.slice(axis: 2, 2..<(size - 2)))
            loss.backward()
            optimiser.update()
            if step < 10 { first += loss.scalar / 10 }
            if step >= 290 { last += loss.scalar / 10 }
        }
        XCTAssertGreaterThan(first, 0.3)
        XCTAssertLessThan(last, 0.15, "loss \(first) → \(last)")
    }

    func testSchedulesAndAdamStep() {
        XCTAssertEqual(Schedule.step(1, every: 10, gamma: 0.5).rate(at: 25), 0.25)
        XCTAssertEqual(Schedule.cosine(1, steps: 10).rate(at: 0), 1)
        XCTAssertEqual(Schedule.cosine(1, steps: 10, floor: 0.1).rate(at: 10), 0.1, accuracy: 1e-6)
        XCTAssertEqual(Schedule.cosine(1, steps: 10, warmup: 4).rate(at: 1), 0.5)
        // Flat until `start`, half-way between the rate and the floor at the decay's midpoint, the floor at the end.
        let tail = Schedule.decayingTail(1, start: 30, steps: 40, floor: 0.1)
        XCTAssertEqual(tail.rate(at: 29), 1)
        XCTAssertEqual(tail.rate(at: 30), 1)
        XCTAssertEqual(tail.rate(at: 35), 0.55, accuracy: 1e-6)
        XCTAssertEqual(tail.rate(at: 40), 0.1, accuracy: 1e-6)
        // A warm-up from step 30 over 4 steps: the base rate before it, ¼ … 1 of it over steps 30–33, then the base.
        let warm = Schedule.warmup(tail, start: 30, steps: 4)
        XCTAssertEqual(warm.rate(at: 29), 1)
        XCTAssertEqual(warm.rate(at: 30), 0.25)
        XCTAssertEqual(warm.rate(at: 32), 0.75 * tail.rate(at: 32), accuracy: 1e-6)
        XCTAssertEqual(warm.rate(at: 35), tail.rate(at: 35))
        // Adam's first step moves each parameter by lr·sign(grad) (bias-corrected m/√v = ±1).
        let p = Tensor(shape: [2], data: [1, 1], requiresGrad: true)
        (p * Tensor(shape: [2], data: [3, -0.5])).sum().backward()
        let adam = Adam([p], schedule: .constant(0.1))
        adam.update()
        XCTAssertEqual(p.data[0], 0.9, accuracy: 1e-6); XCTAssertEqual(p.data[1], 1.1, accuracy: 1e-6)
        XCTAssertNil(p.grad)
        // A restart keeps the schedule's step and zeroes the moments: the next update is again lr·sign(grad).
        adam.restart(at: 7)
        XCTAssertEqual(adam.step, 7); XCTAssertEqual(adam.momentStep, 0)
        (p * Tensor(shape: [2], data: [-2, 4])).sum().backward()
        adam.update()
        XCTAssertEqual(p.data[0], 1.0, accuracy: 1e-6); XCTAssertEqual(p.data[1], 1.0, accuracy: 1e-6)
    }

    /// Restoring moments of the other variant keeps the schedule's step but starts the moments afresh: the next update
    /// is again a first step (lr·sign(grad), tolerance 1e-6); the same variant resumes its moments and bias correction.
    func testRestoringTheOtherVariantRestartsTheMoments() {
        func stepped(_ variant: Adam.Variant, steps: Int) -> Adam {
            let p = Tensor(shape: [2], data: [1, 1], requiresGrad: true)
            let o = Adam([p], schedule: .constant(0.1), variant: variant)
            for _ in 0..<steps { (p * Tensor(shape: [2], data: [3, -0.5])).sum().backward(); o.update() }
            return o
        }
        let saved = stepped(.adamax, steps: 5).state
        let p = Tensor(shape: [2], data: [1, 1], requiresGrad: true)
        let adam = Adam([p], schedule: .constant(0.1), variant: .adam)
        adam.restore(saved)
        XCTAssertEqual(adam.step, 5); XCTAssertEqual(adam.momentStep, 0)
        (p * Tensor(shape: [2], data: [3, -0.5])).sum().backward()
        adam.update()
        XCTAssertEqual(p.data[0], 0.9, accuracy: 1e-6); XCTAssertEqual(p.data[1], 1.1, accuracy: 1e-6)
        XCTAssertEqual(adam.step, 6); XCTAssertEqual(adam.momentStep, 1)
        let adamax = Adam([Tensor(shape: [2], data: [1, 1], requiresGrad: true)], schedule: .constant(0.1), variant: .adamax)
        adamax.restore(saved)
        XCTAssertEqual(adamax.momentStep, 5)
        XCTAssertEqual(adamax.state["m.0"]!.data, saved["m.0"]!.data)
    }

    func testBatchNormNormalisesAndTracksRunningStatistics() {
        let bn = BatchNorm2d(2)
        let x = Tensor(shape: [2, 2, 1, 2], data: [1, 3, 10, 10, 5, 7, 10, 10], requiresGrad: true)
        let y = bn(x)
        // Channel 0 holds 1, 3, 5, 7: mean 4, variance 5.
        XCTAssertEqual(y.data[0], -3 / (5 + 1e-5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(bn.runningMean.data[0], 0.4, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVar.data[0], 0.9 + 0.1 * 20 / 3, accuracy: 1e-5)   // unbiased 20/3
        XCTAssertEqual(y.data[2], 0, accuracy: 1e-6)   // constant channel
        bn.training = false
        XCTAssertEqual(bn(Tensor(shape: [1, 2, 1, 1], data: [0.4, 1])).data[0], 0, accuracy: 1e-6)
    }
}

final class LossTests: XCTestCase {
    func testLossesByHandAndGradients() {
        let a = Tensor(shape: [1, 1, 1, 2], data: [0, 1]), b = Tensor(shape: [1, 1, 1, 2], data: [1, 1])
        XCTAssertEqual(Loss.l1(a, b).scalar, 0.5)
        XCTAssertEqual(Loss.mse(a, b).scalar, 0.5)
        XCTAssertEqual(Loss.charbonnier(a, b, eps: 0).scalar, 0.5, accuracy: 1e-6)
        XCTAssertEqual(Loss.smoothness(Tensor(shape: [1, 1, 2, 2], data: [0, 1, 0, 1])).scalar, 1)
        let img = randomTensor([1, 3, 9, 10], seed: 3, requiresGrad: false)
        XCTAssertEqual(Loss.census(img, img).scalar, 0)
        // Census ignores a brightness offset, unlike L1.
        XCTAssertEqual(Loss.census(img, img + 0.3).scalar, 0, accuracy: 1e-6)
        XCTAssertEqual(Loss.ssim(img, img).scalar, 0, accuracy: 1e-6)
        let x = randomTensor([1, 3, 8, 9], seed: 4), y = randomTensor([1, 3, 8, 9], seed: 5)
        checkGradients([x, y]) { [Loss.census($0[0], $0[1]), Loss.ssim($0[0], $0[1]), Loss.charbonnier($0[0], $0[1])].reduce(Tensor(scalar: 0)) { $0 + $1 } }
    }
}

final class BatchNormGoldenTests: XCTestCase {
    /// The fused training-mode operation against the composition it replaced (mean, centring, variance, division,
    /// scale and shift as separate operations), outputs and all three gradients within 1e-5, and finite differences.
    func testFusedBatchNormMatchesTheComposition() {
        for shape in [[2, 3, 5, 7], [3, 2, 16, 20]] {
            let x = randomTensor(shape, seed: 1), w = randomTensor([shape[1]], seed: 2), b = randomTensor([shape[1]], seed: 3)
            let c = shape[1], m = Float(shape[0] * shape[2] * shape[3]), s = [1, c, 1, 1]
            let mean = x.sum(keepingChannel: true) * (1 / m), centred = x - mean
            let variance = centred.squared().sum(keepingChannel: true) * (1 / m)
            let composed = centred / (variance + 1e-5).sqrt() * w.reshaped(s) + b.reshaped(s)
            let fused = x.batchNormalized(weight: w, bias: b, eps: 1e-5)
            for (p, q) in zip(fused.output.data, composed.data) { XCTAssertEqual(p, q, accuracy: 1e-5) }
            for i in 0..<c { XCTAssertEqual(fused.mean[i], mean.data[i], accuracy: 1e-6); XCTAssertEqual(fused.variance[i], variance.data[i], accuracy: 1e-5) }
            let r = randomTensor(shape, seed: 4, requiresGrad: false)
            (fused.output * r).sum().backward()
            let grads = [x.grad!.data, w.grad!.data, b.grad!.data]
            for t in [x, w, b] { t.zeroGrad() }
            (composed * r).sum().backward()
            for (g, t) in zip(grads, [x, w, b]) { for (p, q) in zip(g, t.grad!.data) { XCTAssertEqual(p, q, accuracy: 1e-4) } }
            for t in [x, w, b] { t.zeroGrad() }
        }
        let x = randomTensor([2, 2, 3, 4], seed: 5), w = randomTensor([2], seed: 6), b = randomTensor([2], seed: 7)
        checkGradients([x, w, b]) { $0[0].batchNormalized(weight: $0[1], bias: $0[2], eps: 1e-3).output }
    }

    func testTrainingModeMatchesPyTorch() {
        Goldens.check("batch_norm_train") { t in
            let bn = BatchNorm2d(t["x"]!.shape[1])
            bn.weight = t["weight"]!; bn.bias = t["bias"]!   // so their gradients are checked too
            return bn(t["x"]!)
        }
    }
}
