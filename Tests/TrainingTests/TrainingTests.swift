import Foundation
import XCTest
import Models
import NN
import Tensor
@testable import Training
import TestSupport

/// The training pipeline on made-up photos (no files): synthetic scenes, augmentation, the training step,
/// checkpoints, determinism.
final class TrainingPipelineTests: XCTestCase {
    /// Two 200×200 "photos" with texture at several scales.
    static let photos: [RGBPlanes] = (0..<2).map { p in
        var b = [UInt8](repeating: 0, count: 3 * 200 * 200)
        for c in 0..<3 { for y in 0..<200 { for x in 0..<200 {
            let v = 0.5 + 0.25 * sin(Double(x) / Double(5 + 3 * c + p)) * cos(Double(y) / 7) + 0.2 * sin(Double(x + 2 * y) / 23)
            b[(c * 200 + y) * 200 + x] = UInt8(max(0, min(255, v * 255)))
        } } }
        return RGBPlanes(width: 200, height: 200, bytes: b)
    }

    /// Real t = ½ triplets span gaps 1 … maxGap (frames i, i + k, i + 2k): each frame's value is its index, so the
    /// gap is read back from the crops. Larger gaps are the lever for larger training motions.
    /// `tween bench train`'s batch moves its pattern by (3, 2) pixels over the gap and carries every teacher field;
    /// the benchmark runs a recipe's last stage on it.
    func testTrainingBenchmarkRunsTheLastStageOnAMovingPattern() throws {
        let json = #"{"model": "dvf", "architecture": {"width": 2, "scales": 1}, "stages": [{"until": 5, "seed": 1, "lr": 0.001}, {"until": 10, "seed": 1, "lr": 0.002, "batch": 2, "crop": 64}]}"#
        let bench = try TrainingBenchmark(recipe: try Recipe.parse(Data(json.utf8), source: "test"))
        XCTAssertEqual(bench.samples.count, 2); XCTAssertEqual(bench.stage.lr, 0.002)
        let s = bench.samples[1]
        XCTAssertEqual(s.size, 64); XCTAssertNotNil(s.teacherFlow); XCTAssertNotNil(s.teacherMask); XCTAssertEqual(s.teacherFrame, s.middle)
        for (x, y) in [(3, 2), (40, 17), (63, 63)] {
            XCTAssertEqual(s.last[64 * 64 + y * 64 + x], s.first[64 * 64 + (y - 2) * 64 + (x - 3)], accuracy: 1e-5)
        }
        let first = bench.run(steps: 1).loss, later = bench.run(steps: 4).loss
        XCTAssertTrue(first.isFinite && later.isFinite)
        XCTAssertLessThan(later, first, "training on one batch lowers its loss")
    }

    func testRealTripletGapsFollowMaxGap() {
        let frames = (0..<40).map { i in RGBPlanes(width: 64, height: 64, bytes: [UInt8](repeating: UInt8(i), count: 3 * 64 * 64)) }
        let clip = VideoClip(name: "ramp", frames: frames)
        for maxGap in [1, 2, 4] {
            let set = TrainingSet(clips: [clip], photos: [], maxGap: maxGap)
            var rng = SeededRandom(seed: 5), gaps = Set<Int>()
            for _ in 0..<200 {
                let s = set.triplet(size: 32, synthetic: false, rng: &rng)
                let (a, m, b) = (Int((s.first[0] * 255).rounded()), Int((s.middle[0] * 255).rounded()), Int((s.last[0] * 255).rounded()))
                XCTAssertEqual(m - a, b - m, "the middle frame lies halfway"); XCTAssertEqual(s.t, 0.5)
                gaps.insert(m - a)
            }
            XCTAssertEqual(gaps, Set(1...maxGap), "maxGap \(maxGap)")
        }
    }

    /// The media fingerprint that names teacher caches depends on the files, not on the folder they were listed from,
    /// and changes with a clip's frames or a photo.
    func testMediaFingerprintIgnoresTheFolderAClipWasFoundIn() {
        let frames = (0..<12).map { i in RGBPlanes(width: 16, height: 16, bytes: [UInt8](repeating: UInt8(i), count: 3 * 16 * 16)) }
        let top = TrainingSet.fingerprint(clips: [VideoClip(name: "videos/a.mp4", frames: frames)], photos: Self.photos)
        let sub = TrainingSet.fingerprint(clips: [VideoClip(name: "a.mp4", frames: frames)], photos: Self.photos)
        XCTAssertEqual(top, sub)
        XCTAssertNotEqual(sub, TrainingSet.fingerprint(clips: [VideoClip(name: "a.mp4", frames: Array(frames.dropLast()))], photos: Self.photos))
        XCTAssertNotEqual(sub, TrainingSet.fingerprint(clips: [VideoClip(name: "b.mp4", frames: frames)], photos: Self.photos))
        XCTAssertNotEqual(sub, TrainingSet.fingerprint(clips: [VideoClip(name: "a.mp4", frames: frames)], photos: [Self.photos[0]]))
    }

    func testSyntheticScenesAreDeterministicAndMove() {
        let scenes = SyntheticScenes(photos: Self.photos)
        var r1 = SeededRandom(seed: 7), r2 = SeededRandom(seed: 7)
        let a = scenes.triplet(size: 48, t: 0.5, rng: &r1), b = scenes.triplet(size: 48, t: 0.5, rng: &r2)
        XCTAssertEqual(a.first, b.first); XCTAssertEqual(a.middle, b.middle); XCTAssertEqual(a.last, b.last)
        XCTAssertNotEqual(a.first, a.last, "the scene should move")
        XCTAssertTrue(a.middle.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// At t the scene is rendered exactly: the frame at t = 0.5 of one draw is the middle frame of the same draw
    /// asked for times (0, 0.5, 1), and t = 0 gives the first frame.
    func testSyntheticGroundTruthAtAnyT() {
        let scenes = SyntheticScenes(photos: Self.photos)
        var r1 = SeededRandom(seed: 3), r2 = SeededRandom(seed: 3)
        let frames = scenes.frames(size: 32, times: [0, 0.25, 0.5, 1], rng: &r1)
        let triplet = scenes.triplet(size: 32, t: 0.25, rng: &r2)
        XCTAssertEqual(triplet.middle, frames[1]); XCTAssertEqual(triplet.first, frames[0]); XCTAssertEqual(triplet.last, frames[3])
    }

    /// The layered scenes are deterministic, exact at any t (the frame at t of one draw is the middle of the same draw
    /// asked for other times), stay in 0…1, move, and are not the affine scenes.
    func testLayeredScenesAreExactAtAnyTAndMove() {
        let layered = SyntheticScenes(photos: Self.photos, maxMotion: 8, kind: .layered)
        var r1 = SeededRandom(seed: 3), r2 = SeededRandom(seed: 3), r3 = SeededRandom(seed: 3)
        let frames = layered.frames(size: 40, times: [0, 0.25, 0.5, 1], rng: &r1)
        let triplet = layered.triplet(size: 40, t: 0.25, rng: &r2)
        XCTAssertEqual(triplet.first, frames[0]); XCTAssertEqual(triplet.middle, frames[1]); XCTAssertEqual(triplet.last, frames[3])
        XCTAssertTrue(frames.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 <= 1 } })
        XCTAssertNotEqual(frames[0], frames[3], "the scene should move")
        let affine = SyntheticScenes(photos: Self.photos, maxMotion: 8).triplet(size: 40, t: 0.25, rng: &r3)
        XCTAssertNotEqual(affine.first, triplet.first)
    }

    /// Flips mirror frames and flows and negate the matching flow component; reversal swaps ends and flows.
    func testAugmentationKeepsFlowsConsistent() {
        let n = 3
        let frame = (0..<(3 * n * n)).map { Float($0) / 27 }
        let flow = (0..<(4 * n * n)).map { Float($0) + 1 }
        let s = TrainingSample(size: n, first: frame, middle: frame, last: frame.map { $0 * 0.5 }, t: 0.25, teacherFlow: flow)
        let h = s.flippedHorizontally()
        XCTAssertEqual(h.first[0], frame[2]); XCTAssertEqual(h.first[2], frame[0])
        XCTAssertEqual(h.teacherFlow![0], -flow[2], "x of Fₜ→₀ mirrored and negated")
        XCTAssertEqual(h.teacherFlow![n * n], flow[n * n + 2], "y of Fₜ→₀ mirrored only")
        XCTAssertEqual(h.teacherFlow![2 * n * n], -flow[2 * n * n + 2], "x of Fₜ→₁ negated")
        let v = s.flippedVertically()
        XCTAssertEqual(v.first[0], frame[6]); XCTAssertEqual(v.teacherFlow![n * n], -flow[n * n + 6]); XCTAssertEqual(v.teacherFlow![0], flow[6])
        let r = s.reversed()
        XCTAssertEqual(r.t, 0.75); XCTAssertEqual(r.first, s.last); XCTAssertEqual(r.teacherFlow![0], flow[2 * n * n])
        XCTAssertEqual(h.flippedHorizontally().teacherFlow, flow); XCTAssertEqual(v.flippedVertically().first, frame)
        var rng = SeededRandom(seed: 1)
        let a = s.augmented(&rng)
        XCTAssertTrue(a.first.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func tinyTrainer(_ seed: UInt64 = 1) -> Trainer {
        Trainer(model: SuperSloMoStudent(SuperSloMo(widths: [4, 4, 8, 8, 8, 8], linearOutput: true, seed: seed)),
                schedule: .constant(3e-3))
    }

    /// Twenty steps on one fixed batch with a teacher flow: the loss falls by at least 15%; the same seed gives the same
    /// weights bit for bit.
    func testSuperSloMoTrainingReducesTheLossDeterministically() {
        var rng = SeededRandom(seed: 5)
        let scenes = SyntheticScenes(photos: Self.photos, maxMotion: 6)
        var batch = [scenes.triplet(size: 32, t: 0.5, rng: &rng)]
        batch[0].teacherFlow = [Float](repeating: 1, count: 4 * 32 * 32)
        func run(_ steps: Int) -> (Float, Float, [Float]) {
            let trainer = tinyTrainer()
            trainer.lossWeights["census"] = 0   // (census is tested in NNTests; it triples the cost of a debug-build step)
            let first = trainer.step(batch).loss
            var last: Float = 0
            for _ in 0..<steps { last = trainer.step(batch).loss }
            return (first, last, trainer.model.layer.parameters().flatMap(\.1.data))
        }
        let (first, last, _) = run(20)
        XCTAssertLessThan(last, first * 0.85, "loss \(first) → \(last)")
        XCTAssertEqual(run(3).2, run(3).2, "training must be deterministic")
    }

    func testSepConvTrainingReducesTheLoss() {
        var rng = SeededRandom(seed: 9)
        let scenes = SyntheticScenes(photos: Self.photos, maxMotion: 4)
        var batch = [scenes.triplet(size: 32, t: 0.5, rng: &rng)]
        // A teacher flow of zero: each frame's filtered half should match half of that frame.
        batch[0].teacherFlow = [Float](repeating: 0, count: 4 * 32 * 32)
        let config = SepConv.Configuration(widths: [4, 4, 8, 8, 8], subnetWidth: 4, kernelSize: 9)
        let trainer = Trainer(model: SepConvStudent(SepConv(config, seed: 2)), schedule: .constant(2e-3))
        let firstStep = trainer.step(batch)
        XCTAssertEqual(firstStep.parts.map(\.0), ["l1", "distil"])
        let first = firstStep.loss
        var last: Float = 0
        for _ in 0..<30 { last = trainer.step(batch).loss }
        XCTAssertLessThan(last, first * 0.67, "loss \(first) → \(last)")
    }

    /// The kernel-moment target: bilinear 1-D kernels at the teacher's displacement, scaled (SepConv's kernels are
    /// unnormalised), score zero (float tolerance 1e-5); kernels off by δ pixels score |δ|·scale; displacements past
    /// the kernel's reach are clamped to it.
    func testKernelMomentErrorMeasuresTheKernelsCentreAgainstTheTeacher() {
        let (r, h, w) = (3, 2, 2), k = 7
        func kernels(at d: Float, scale: Float) -> Tensor {
            var data = [Float](repeating: 0, count: k * h * w)
            let lower = Int((d + Float(r)).rounded(.down)), frac = d + Float(r) - Float(lower)
            for p in 0..<(h * w) {
                data[lower * h * w + p] = (1 - frac) * scale
                if frac > 0 { data[(lower + 1) * h * w + p] = frac * scale }
            }
            return Tensor(shape: [1, k, h, w], data: data)
        }
        var flow = [Float](repeating: 0, count: 4 * h * w)
        for p in 0..<(h * w) { flow[p] = 1.25; flow[h * w + p] = -2.5; flow[2 * h * w + p] = 5; flow[3 * h * w + p] = 0 }
        let teacher = Tensor(shape: [1, 4, h, w], data: flow)
        XCTAssertEqual(SepConvStudent.momentError(kernels(at: 1.25, scale: 0.7), teacher, channel: 0, radius: r).scalar, 0, accuracy: 1e-5)
        XCTAssertEqual(SepConvStudent.momentError(kernels(at: -2.5, scale: 0.5), teacher, channel: 1, radius: r).scalar, 0, accuracy: 1e-5)
        XCTAssertEqual(SepConvStudent.momentError(kernels(at: 3, scale: 1), teacher, channel: 2, radius: r).scalar, 0, accuracy: 1e-5)
        XCTAssertEqual(SepConvStudent.momentError(kernels(at: 0.5, scale: 0.7), teacher, channel: 0, radius: r).scalar, 0.75 * 0.7, accuracy: 1e-5)
        XCTAssertEqual(SepConvStudent.momentError(kernels(at: -1, scale: 1), teacher, channel: 3, radius: r).scalar, 1, accuracy: 1e-5)
    }

    /// The kernel-tap targets are the teacher's warp: filtering two frames with them equals half of each frame warped
    /// by its flow (bilinear, border; interior pixels, float tolerance 1e-5), whatever the heads' sign; a head whose
    /// taps sum below zero gets negative targets with the same magnitudes.
    func testKernelTargetsFilterLikeTheTeachersWarp() {
        var rng = SeededRandom(seed: 21)
        let (h, w, k) = (12, 12, 7)
        let a = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { _ in Float(rng.int(1000)) / 1000 })
        let b = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { _ in Float(rng.int(1000)) / 1000 })
        let flow = Tensor(shape: [1, 4, h, w], data: (0..<(4 * h * w)).map { _ in Float(rng.int(4000)) / 1000 - 2 })
        let positive = Tensor(shape: [1, k, h, w], data: [Float](repeating: 0.1, count: k * h * w))
        let negative = Tensor(shape: [1, k, h, w], data: [Float](repeating: -0.1, count: k * h * w))
        let targets = SepConv.Kernels(vertical1: SepConvStudent.kernelTargets(positive, flow, channel: 1, size: k),
                                      horizontal1: SepConvStudent.kernelTargets(positive, flow, channel: 0, size: k),
                                      vertical2: SepConvStudent.kernelTargets(negative, flow, channel: 3, size: k),
                                      horizontal2: SepConvStudent.kernelTargets(negative, flow, channel: 2, size: k))
        let model = SepConv(SepConv.Configuration(widths: [4, 4, 8, 8, 8], subnetWidth: 4, kernelSize: k), seed: 1)
        let filtered = model.filter(a, b, targets)
        let warped = a.warped(by: flow.slice(axis: 1, 0..<2), padding: .border) * 0.5
            + b.warped(by: flow.slice(axis: 1, 2..<4), padding: .border) * 0.5
        for c in 0..<3 { for y in 3..<(h - 3) { for x in 3..<(w - 3) {
            let i = (c * h + y) * w + x
            XCTAssertEqual(filtered.data[i], warped.data[i], accuracy: 1e-5, "c \(c) y \(y) x \(x)")
        } } }
        XCTAssertEqual(targets.vertical2.data.map(abs), SepConvStudent.kernelTargets(positive, flow, channel: 3, size: k).data)
        XCTAssertTrue(targets.vertical2.data.allSatisfy { $0 <= 0 })
    }

    /// A tiny SepConv and one synthetic triplet with moving content and a uniform teacher flow (1.5, −1 px).
    func movingSceneSepConvTrainer() -> (Trainer, [TrainingSample]) {
        var rng = SeededRandom(seed: 9)
        let scenes = SyntheticScenes(photos: Self.photos, maxMotion: 4)
        var batch = [scenes.triplet(size: 32, t: 0.5, rng: &rng)]
        batch[0].teacherFlow = (0..<4).flatMap { c in [Float](repeating: c % 2 == 0 ? 1.5 : -1, count: 32 * 32) }
        let config = SepConv.Configuration(widths: [4, 4, 8, 8, 8], subnetWidth: 4, kernelSize: 9)
        let trainer = Trainer(model: SepConvStudent(SepConv(config, seed: 2)), schedule: .constant(2e-3))
        return (trainer, batch)
    }

    /// One step, then 30 more on the same batch: the first step must report the parts l1, distil and `name`, and the
    /// extra part must end below `factor` times its first value.
    func assertExtraPartTrains(_ trainer: Trainer, _ batch: [TrainingSample], name: String, below factor: Float,
                               file: StaticString = #filePath, line: UInt = #line) {
        let firstStep = trainer.step(batch)
        var last = firstStep
        for _ in 0..<30 { last = trainer.step(batch) }
        XCTAssertEqual(firstStep.parts.map(\.0), ["l1", "distil", name], file: file, line: line)
        let (first, final) = (firstStep.parts[2].1, last.parts[2].1)
        XCTAssertLessThan(final, first * factor, "\(name) loss \(first) → \(final)", file: file, line: line)
    }

    /// With the tap loss on, a SepConv step reports it and training lowers it.
    func testSepConvKernelTargetLossTrains() {
        let (trainer, batch) = movingSceneSepConvTrainer()
        trainer.lossWeights["taps"] = 1
        assertExtraPartTrains(trainer, batch, name: "taps", below: 0.8)
    }

    /// With displacement-decoder heads and the displacement loss on, a step reports the loss and training pulls every
    /// head's displacement towards the teacher's uniform (1.5, −1) px.
    func testSepConvDisplacementLossTrains() {
        let (trainer, batch) = movingSceneSepConvTrainer()
        let net = (trainer.model as! SepConvStudent).network
        net.initialiseKernelsAsDisplacementDecoder()
        trainer.lossWeights["displacement"] = 1
        assertExtraPartTrains(trainer, batch, name: "displacement", below: 0.5)
    }

    /// The ramps loss compares every decoder ramp with max(0, s − j) of the teacher's flow: right after the decoder
    /// start (all ramps of a component share their weights) it is zero, up to float rounding (1e-5 px), against the
    /// displacements the network itself encodes, and against those shifted by one pixel it is the plain per-ramp sum
    /// (within 1e-4 px); training on the uniform (1.5, −1) px teacher lowers it.
    func testAdaConvRampsLossMeasuresEveryRampAndTrains() {
        var rng = SeededRandom(seed: 9)
        let scenes = SyntheticScenes(photos: Self.photos, maxMotion: 4)
        var sample = scenes.triplet(size: 24, t: 0.5, rng: &rng)
        let config = AdaConv.Configuration(widths: [2, 4, 8, 16], headWidth: 24, kernelSize: 5)
        let student = AdaConvStudent(AdaConv(config, seed: 3), displacementScale: 1, sharpness: 3)
        student.network.initialiseKernelsAsDisplacementDecoder(alpha: 1, beta: 3)
        student.network.training = true  // batch statistics, as in `losses`
        let batch = TrainingBatch([sample])
        let own = AdaConv.displacements(fromFeatures: student.network.features(AdaConv.networkInput(batch.first, batch.last)),
                                        alpha: 1, kernelSize: 5)
        XCTAssertLessThan(own.data.map(abs).max()!, 0.9, "the start's displacements stay within a pixel of 0")
        func rampsLoss(_ flow: [Float]) -> Float {
            sample.teacherFlow = flow
            let parts = student.losses(TrainingBatch([sample]), weights: ["gradient": 0, "distil": 0, "ramps": 1, "displacement": 0])
            return parts.first { $0.0 == "ramps" }!.1.data[0]
        }
        XCTAssertLessThan(rampsLoss(own.data), 1e-5)
        let shifted: Float = own.data.map { d -> Float in
            let s = d + 2
            return (0..<5).map { j in max(0, min(4, s + 1) - Float(j)) - max(0, s - Float(j)) }.reduce(0, +) / 5
        }.reduce(0, +) / Float(own.count)
        XCTAssertGreaterThan(shifted, 0.3)
        XCTAssertEqual(rampsLoss(own.data.map { $0 + 1 }), shifted, accuracy: 1e-4)

        sample.teacherFlow = (0..<4).flatMap { c in [Float](repeating: c % 2 == 0 ? 1.5 : -1, count: 24 * 24) }
        let trainer = Trainer(model: AdaConvStudent(AdaConv(config, seed: 3), displacementScale: 1 / 4, sharpness: 3),
                              schedule: .constant(2e-3))
        (trainer.model as! AdaConvStudent).network.initialiseKernelsAsDisplacementDecoder(alpha: 1 / 4, beta: 3)
        trainer.lossWeights = ["gradient": 0, "ramps": 1, "displacement": 0]
        let first = trainer.step([sample])
        var last = first
        for _ in 0..<30 { last = trainer.step([sample]) }
        XCTAssertEqual(first.parts.map(\.0), ["l1", "ramps", "distil"])
        XCTAssertLessThan(last.parts[1].1, first.parts[1].1 * 0.5, "ramps loss \(first.parts[1].1) → \(last.parts[1].1)")
    }

    /// With tied ramps, training moves each component's ramps as one: after steps on the colour and displacement
    /// losses every ramp's weights equal ramp 0's (exactly) and its bias is ramp 0's less α·j (within 1e-6); untied,
    /// the same steps pull the ramps apart.
    func testAdaConvTiedRampsStayOneFunctionOfTheDisplacement() {
        var rng = SeededRandom(seed: 9)
        let scenes = SyntheticScenes(photos: Self.photos, maxMotion: 4)
        var sample = scenes.triplet(size: 24, t: 0.5, rng: &rng)
        sample.teacherFlow = (0..<4).flatMap { c in [Float](repeating: c % 2 == 0 ? 1.5 : -1, count: 24 * 24) }
        let config = AdaConv.Configuration(widths: [2, 4, 8, 16], headWidth: 24, kernelSize: 5)
        func spread(tied: Bool) -> Float {
            let student = AdaConvStudent(AdaConv(config, seed: 3), displacementScale: 1 / 4, sharpness: 3, tiedRamps: tied)
            student.network.initialiseKernelsAsDisplacementDecoder(alpha: 1 / 4, beta: 3)
            let trainer = Trainer(model: student, schedule: .constant(2e-3))
            trainer.lossWeights = ["gradient": 0, "ramps": 0, "displacement": 0.1]
            for _ in 0..<5 { _ = trainer.step([sample]) }
            let conv5 = student.network.conv5, plane = conv5.weight.count / conv5.weight.shape[0]
            var worst: Float = 0
            for c in 0..<4 { for j in 1..<5 {
                for i in 0..<plane { worst = max(worst, abs(conv5.weight.data[(c * 5 + j) * plane + i] - conv5.weight.data[c * 5 * plane + i])) }
                worst = max(worst, abs(conv5.bias!.data[c * 5 + j] - (conv5.bias!.data[c * 5] - Float(j) / 4)))
            } }
            return worst
        }
        XCTAssertLessThan(spread(tied: true), 1e-6)
        XCTAssertGreaterThan(spread(tied: false), 1e-3)
    }

    /// The gain error is (Σv₁·Σh₁ + Σv₂·Σh₂ − 1)² averaged over pixels: kernels that are centred deltas of √½ (a
    /// blend) score 0, and kernels whose taps sum to 0.8 and 0.6 score (0.8·0.8 + 0.6·0.6 − 1)² = 0 too, while sums of
    /// 0.8 everywhere score (1.28 − 1)² (float tolerance 1e-6).
    func testKernelGainErrorIsTheSquaredDistanceOfTheFlatImageGainFromOne() {
        func kernels(_ sum: Float) -> Tensor {
            Tensor(shape: [1, 5, 2, 3], data: (0..<30).map { i in i / 6 == 2 ? sum / 2 : (i / 6 == 1 ? sum / 2 : 0) })
        }
        func error(_ a: Float, _ b: Float) -> Float {
            SepConvStudent.kernelGainError(SepConv.Kernels(vertical1: kernels(a), horizontal1: kernels(a), vertical2: kernels(b), horizontal2: kernels(b))).scalar
        }
        XCTAssertEqual(error(Float(0.5).squareRoot(), Float(0.5).squareRoot()), 0, accuracy: 1e-6)
        XCTAssertEqual(error(0.8, 0.6), 0, accuracy: 1e-6)
        XCTAssertEqual(error(0.8, 0.8), 0.28 * 0.28, accuracy: 1e-6)
    }

    /// With the gain loss on, a step reports it and training lowers it.
    func testSepConvKernelGainLossTrains() {
        let (trainer, batch) = movingSceneSepConvTrainer()
        trainer.lossWeights["gain"] = 1
        assertExtraPartTrains(trainer, batch, name: "gain", below: 0.5)
    }

    /// The displacement target is the teacher's flow channel averaged over 2 × 2 blocks and clamped to ±r: a
    /// displacement equal to it scores zero, one off by 0.5 px everywhere scores 0.5 (float tolerance 1e-6).
    func testDisplacementErrorAgainstTheHalfResolutionTeacher() {
        // Channel 1 holds 1, 2, 3, 10 in each 2 × 2 block (mean 4, clamped to r = 3); channel 0 holds −1, −2 in rows.
        var flow = [Float](repeating: 0, count: 4 * 4 * 4)
        for y in 0..<4 { for x in 0..<4 {
            flow[y * 4 + x] = y % 2 == 0 ? -1 : -2
            flow[16 + y * 4 + x] = [1, 2, 3, 10][(y % 2) * 2 + x % 2]
        } }
        let teacher = Tensor(shape: [1, 4, 4, 4], data: flow)
        let exact = Tensor(shape: [1, 1, 2, 2], data: [-1.5, -1.5, -1.5, -1.5])
        XCTAssertEqual(SepConvStudent.displacementError(exact, teacher, channel: 0, radius: 3).scalar, 0, accuracy: 1e-6)
        XCTAssertEqual(SepConvStudent.displacementError(exact + 0.5, teacher, channel: 0, radius: 3).scalar, 0.5, accuracy: 1e-6)
        let clamped = Tensor(shape: [1, 1, 2, 2], data: [3, 3, 3, 3])
        XCTAssertEqual(SepConvStudent.displacementError(clamped, teacher, channel: 1, radius: 3).scalar, 0, accuracy: 1e-6)
    }

    /// With the moment loss on, a SepConv step reports it and training on a moving scene still lowers the total loss.
    func testSepConvKernelMomentLossTrains() {
        let (trainer, batch) = movingSceneSepConvTrainer()
        trainer.lossWeights["moment"] = 0.05
        let firstStep = trainer.step(batch)
        XCTAssertEqual(firstStep.parts.map(\.0), ["l1", "distil", "moment"])
        var last = firstStep
        for _ in 0..<30 { last = trainer.step(batch) }
        XCTAssertLessThan(last.loss, firstStep.loss * 0.67, "loss \(firstStep.loss) → \(last.loss)")
        XCTAssertLessThan(last.parts[2].1, firstStep.parts[2].1, "moment loss \(firstStep.parts[2].1) → \(last.parts[2].1)")
    }

    /// Weight averaging: the shipped weights are the mean of the weights after each step past `averageFrom`
    /// (float tolerance 1e-6 for the running mean), the live weights are untouched, and a checkpoint carries the mean.
    func testWeightAveragingShipsTheMeanAndResumes() throws {
        var rng = SeededRandom(seed: 13)
        let scenes = SyntheticScenes(photos: Self.photos)
        let batch = [scenes.triplet(size: 32, t: 0.5, rng: &rng)]
        let trainer = tinyTrainer()
        trainer.lossWeights["census"] = 0
        trainer.averageFrom = 1
        var seen: [[Float]] = []
        for step in 0..<4 {
            _ = trainer.step(batch)
            if step >= 1 { seen.append(trainer.model.layer.stateDict().flatMap(\.1.data)) }
        }
        XCTAssertEqual(trainer.averageCount, 3)
        let live = trainer.model.layer.stateDict().flatMap(\.1.data)
        let keys = trainer.model.layer.stateDict().map(\.0)
        let shipped = trainer.shippedWeights()
        let mean = keys.flatMap { shipped[$0]!.data }
        for i in stride(from: 0, to: mean.count, by: 7) {
            let expected = (seen[0][i] + seen[1][i] + seen[2][i]) / 3
            XCTAssertEqual(mean[i], expected, accuracy: 1e-6 * max(1, abs(expected)))
        }
        XCTAssertNotEqual(mean, live, "the mean differs from the last step's weights")
        let averaged = trainer.withAveragedWeights { trainer.model.layer.stateDict().flatMap(\.1.data) }
        XCTAssertEqual(averaged, mean); XCTAssertEqual(trainer.model.layer.stateDict().flatMap(\.1.data), live)

        let restored = tinyTrainer(2)
        try restored.restore(trainer.checkpoint(metadata: [:]), source: "test")
        XCTAssertEqual(restored.averageCount, 3)
        XCTAssertEqual(keys.flatMap { restored.shippedWeights()[$0]!.data }, mean)
        XCTAssertEqual(restored.model.layer.stateDict().flatMap(\.1.data), live)
    }

    /// A checkpoint restores the weights and the optimiser, so a resumed run continues exactly.
    func testCheckpointResumesExactly() throws {
        var rng = SeededRandom(seed: 11)
        let scenes = SyntheticScenes(photos: Self.photos)
        let batch = (0..<2).map { _ in scenes.triplet(size: 32, t: 0.5, rng: &rng) }
        let a = tinyTrainer()
        for _ in 0..<3 { _ = a.step(batch) }
        let saved = a.checkpoint(metadata: [:])
        let b = tinyTrainer(99)
        try b.restore(saved.mapValues { Tensor(shape: $0.shape, data: $0.data) }, source: "checkpoint")
        XCTAssertEqual(b.optimizer.step, 3)
        _ = a.step(batch); _ = b.step(batch)
        XCTAssertEqual(a.model.layer.parameters().flatMap(\.1.data), b.model.layer.parameters().flatMap(\.1.data))
    }

    func testValidationScoresAPerfectPredictionHigherThanBlend() {
        var rng = SeededRandom(seed: 4)
        let scenes = SyntheticScenes(photos: Self.photos)
        let samples = (0..<2).map { _ in scenes.triplet(size: 32, t: 0.5, rng: &rng) }
        let blend = Trainer.blendPSNR(samples)
        XCTAssertGreaterThan(blend, 10); XCTAssertLessThan(blend, 60)
        let trained = tinyTrainer().validationPSNR(samples)
        XCTAssertTrue(trained.isFinite)
    }

    /// A cache is built with the teacher's frame, flows and mask for every crop, read back memory-mapped (float16:
    /// within 1e-3 of the 8-bit crops), and cropped like the sample; a real pair with no middle frame has the teacher's
    /// frame as its target.
    func testTeacherCacheRoundTrip() throws {
        let frames = (0..<40).map { i in RGBPlanes(width: 96, height: 96, bytes: (0..<(3 * 96 * 96)).map { UInt8(($0 + 3 * i) % 251) }) }
        let set = TrainingSet(clips: [VideoClip(name: "ramp", frames: frames)], photos: Self.photos)
        var settings = TeacherCache.Settings(count: 12, size: 32, seed: 1)
        settings.pairFraction = 0.25
        let teacher: (Tensor, Tensor) -> TeacherOutput = { a, b in
            let n = a.shape[0]
            return TeacherOutput(frame: (a + b) * 0.5, flow: Tensor(shape: [n, 4, 32, 32], data: (0..<(n * 4 * 1024)).map { Float($0 % 7) - 3 }),
                                 mask: Tensor(shape: [n, 1, 32, 32], data: [Float](repeating: 0.25, count: n * 1024)))
        }
        let path = NSTemporaryDirectory() + "/tween-cache-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cache = try TeacherCache.build(settings, set: set, teacher: ("test", teacher), media: "m", to: path)
        XCTAssertEqual(cache.metadata["format"], TeacherCache.format)
        XCTAssertEqual(cache.metadata["teacher"], "test")
        XCTAssertEqual(cache.count, 12); XCTAssertEqual(cache.size, 32)
        // The same settings draw the same crops.
        var rng = SeededRandom(seed: 1 ^ 0xCAC4E)
        let first = set.triplet(size: 32, synthetic: rng.uniform(0, 1) < 0.5, rng: &rng)
        let back = cache.crop(0, x: 0, y: 0, size: 32)
        if !back.middleFromTeacher { for (x, y) in zip(back.first, first.first) { XCTAssertEqual(x, y, accuracy: 1e-3) } }
        var pairs = 0
        for i in 0..<12 {
            let s = cache.crop(i, x: 4, y: 8, size: 16)
            XCTAssertEqual(s.size, 16); XCTAssertEqual(s.teacherMask?.first, 0.25)
            XCTAssertEqual(s.teacherFlow?.count, 4 * 256); XCTAssertEqual(s.teacherFrame?.count, 3 * 256)
            if s.middleFromTeacher { pairs += 1; XCTAssertEqual(s.middle, s.teacherFrame) }
            // The crop is the window of the full sample.
            let full = cache.crop(i, x: 0, y: 0, size: 32)
            XCTAssertEqual(s.first[0], full.first[8 * 32 + 4]); XCTAssertEqual(s.teacherFlow![3 * 256 + 17], full.teacherFlow![(3 * 32 + 9) * 32 + 5])
        }
        XCTAssertGreaterThan(pairs, 0, "a pair fraction of 0.25 draws pairs")
        XCTAssertLessThan(pairs, 12)
    }

    /// Flips and reversal move the teacher's mask and frame with the frames: reversal turns frame 0's weight m into
    /// 1 − m; the colour jitter applies to the teacher's frame as to the others.
    func testAugmentationMovesTheTeachersMaskAndFrame() {
        let n = 3
        let frame = (0..<(3 * n * n)).map { Float($0) / 27 }
        let mask = (0..<(n * n)).map { Float($0) / 9 }
        let s = TrainingSample(size: n, first: frame, middle: frame, last: frame, t: 0.5, teacherMask: mask, teacherFrame: frame)
        XCTAssertEqual(s.flippedHorizontally().teacherMask![0], mask[2])
        XCTAssertEqual(s.flippedVertically().teacherFrame![0], frame[6])
        XCTAssertEqual(s.reversed().teacherMask!, mask.map { 1 - $0 })
        var rng = SeededRandom(seed: 2)
        let a = s.augmented(&rng)
        XCTAssertEqual(a.teacherFrame!, a.middle, "the teacher's frame is jittered like the middle frame it equals")
    }
}
