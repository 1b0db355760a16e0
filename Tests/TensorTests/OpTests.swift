import XCTest
import TestSupport
@testable import Tensor
@testable import Kernels

final class OpTests: XCTestCase {
    func testBroadcastingByHand() {
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], data: [10, 20, 30])
        XCTAssertEqual((a + b).data, [11, 22, 33, 14, 25, 36])
        let c = Tensor(shape: [2, 1], data: [2, 3])
        XCTAssertEqual((a * c).data, [2, 4, 6, 12, 15, 18])
        // The gradient of a broadcast operand sums over the stretched dimension.
        let bb = Tensor(shape: [3], data: [10, 20, 30], requiresGrad: true)
        (a + bb).sum().backward()
        XCTAssertEqual(bb.grad?.data, [2, 2, 2])
    }

    func testPerPixelOperandSameBytesAsGeneralBroadcasting() {
        // [N, 1, H, W] against [N, C, H, W] (a mask over every channel), on either side, every op.
        let a = randomTensor([2, 3, 4, 5], seed: 5, requiresGrad: false), m = randomTensor([2, 1, 4, 5], seed: 6, requiresGrad: false)
        let ops: [(Elementwise.Binary, (Float, Float) -> Float)] = [(.add, +), (.subtract, -), (.multiply, *), (.divide, /)]
        for (op, f) in ops {
            XCTAssertEqual(Tensor.binary(a, m, op, f).data, Tensor.binary(a, m, f).data, "\(op)")
            XCTAssertEqual(Tensor.binary(m, a, op, f).data, Tensor.binary(m, a, f).data, "\(op) mirrored")
            XCTAssertEqual(Tensor.binary(m, a, op, f).shape, [2, 3, 4, 5])
        }
        checkGradients([randomTensor([2, 3, 4, 5], seed: 7), randomTensor([2, 1, 4, 5], seed: 8)]) { $0[0] * $0[1] - $0[1] }
    }

    func testElementwiseGradients() {
        let a = randomTensor([2, 3, 4], seed: 1), b = randomTensor([3, 1], seed: 2)
        checkGradients([a, b]) { $0[0] + $0[1] }
        checkGradients([a, b]) { $0[0] - $0[1] }
        checkGradients([a, b]) { $0[0] * $0[1] }
        let positive = Tensor(shape: [3, 1], data: [1.5, 2, 0.7], requiresGrad: true)
        checkGradients([a, positive]) { $0[0] / $0[1] }
        checkGradients([a]) { $0[0].sigmoid() }
        checkGradients([a]) { $0[0].tanh() }
        checkGradients([a]) { ($0[0] * 3 + 1).squared() }
        checkGradients([a]) { $0[0].exp().mean() }
        checkGradients([a]) { $0[0].reshaped([6, 4]) }
        // Kinks: keep samples away from 0 so the finite difference does not straddle one.
        let away = Tensor(shape: [6], data: [-0.9, -0.4, -0.2, 0.3, 0.6, 0.8], requiresGrad: true)
        checkGradients([away]) { $0[0].relu() }
        checkGradients([away]) { $0[0].leakyReLU(0.1) }
        checkGradients([away]) { $0[0].abs() }
    }

    func testConvolutionGradients() {
        let x = randomTensor([2, 3, 6, 7], seed: 3), w = randomTensor([4, 3, 3, 3], seed: 4), b = randomTensor([4], seed: 5)
        checkGradients([x, w, b]) { $0[0].conv2d($0[1], bias: $0[2], padding: 1) }
        checkGradients([x, w]) { $0[0].conv2d($0[1], stride: 2, padding: 1) }
        checkGradients([x, w]) { $0[0].conv2d($0[1], padding: 2, dilation: 2, paddingMode: .reflect) }
        checkGradients([x, w]) { $0[0].conv2d($0[1], padding: 1, paddingMode: .replicate) }
        let wg = randomTensor([4, 1, 3, 3], seed: 6)
        let xg = randomTensor([1, 4, 5, 5], seed: 7)
        checkGradients([xg, wg]) { $0[0].conv2d($0[1], padding: 1, groups: 4) }
        // The direct path (width ≥ 40) and a depth past one K block.
        let wide = randomTensor([1, 2, 3, 45], seed: 8), ww = randomTensor([3, 2, 3, 3], seed: 9)
        checkGradients([wide, ww]) { $0[0].conv2d($0[1], padding: 1) }
        let deep = randomTensor([1, 30, 4, 4], seed: 10), wd = randomTensor([2, 30, 3, 3], seed: 11)
        checkGradients([deep, wd], atol: 5e-3) { $0[0].conv2d($0[1], padding: 1) }
    }

    func testFusedActivationSameBytesAndGradients() {
        // Widths on the direct (≥ 40), packed and Winograd-free paths; leaky ReLU and ReLU in the epilogue.
        for (shape, wShape) in [([1, 3, 6, 45], [5, 3, 3, 3]), ([2, 4, 7, 9], [3, 4, 3, 3])] {
            let x = randomTensor(shape, seed: 12, requiresGrad: false), w = randomTensor(wShape, seed: 13, requiresGrad: false)
            let b = randomTensor([wShape[0]], seed: 14, requiresGrad: false)
            for a in [Activation.leakyReLU(0.1), .relu] {
                let separate = x.conv2d(w, bias: b, padding: 1)
                let expected = a == .relu ? separate.relu() : separate.leakyReLU(0.1)
                let fused = Tensor.inferenceMode { x.conv2d(w, bias: b, padding: 1, activation: a) }
                XCTAssertEqual(fused.data, expected.data, "\(shape) \(a)")
            }
        }
        // With gradients recorded, the activation is a separate operation with its own backward.
        let x = randomTensor([1, 2, 5, 6], seed: 15), w = randomTensor([3, 2, 3, 3], seed: 16), b = randomTensor([3], seed: 17)
        checkGradients([x, w, b]) { $0[0].conv2d($0[1], bias: $0[2], padding: 1, activation: .leakyReLU(0.1)) }
    }

    func testFusedPReLUSameBytesOnEveryPathAndGradients() {
        // Direct, packed, grouped and Winograd paths; slopes of both signs, one per output channel.
        let savedChannels = Convolution.minimumWinogradChannels, savedTiles = Convolution.minimumWinogradTiles
        Convolution.minimumWinogradChannels = 16; Convolution.minimumWinogradTiles = 16
        defer { Convolution.minimumWinogradChannels = savedChannels; Convolution.minimumWinogradTiles = savedTiles }
        let cases: [([Int], [Int], Int)] = [([1, 3, 6, 45], [5, 3, 3, 3], 1), ([2, 4, 7, 9], [3, 4, 3, 3], 1),
                                            ([1, 4, 5, 44], [6, 2, 3, 3], 2), ([1, 16, 20, 21], [18, 16, 3, 3], 1)]
        for (i, (shape, wShape, groups)) in cases.enumerated() {
            let x = randomTensor(shape, seed: 30 + UInt64(i), requiresGrad: false)
            let w = randomTensor(wShape, seed: 40 + UInt64(i), requiresGrad: false)
            let b = randomTensor([wShape[0]], seed: 50 + UInt64(i), requiresGrad: false)
            let slopes = randomTensor([wShape[0]], seed: 60 + UInt64(i), requiresGrad: false)
            let g = ConvGeometry(inChannels: shape[1], outChannels: wShape[0], inHeight: shape[2], inWidth: shape[3],
                                 kernel: 3, pad: 1, groups: groups)
            if i == 3 { XCTAssertTrue(Convolution.usesWinograd(g)) }
            let expected = x.conv2d(w, bias: b, geometry: g).prelu(slopes)
            let fused = Tensor.inferenceMode { x.conv2d(w, bias: b, geometry: g, prelu: slopes) }
            XCTAssertEqual(fused.data, expected.data, "case \(i)")
        }
        let x = randomTensor([1, 2, 5, 6], seed: 15), w = randomTensor([3, 2, 3, 3], seed: 16)
        let slopes = Tensor(shape: [3], data: [0.25, -0.5, 0.1], requiresGrad: true)
        // With gradients recorded it is the convolution, then `prelu` with its own backward; a step of 1e-4 keeps
        // the finite differences off PReLU's kinks (some outputs lie within 1e-3 of zero).
        checkGradients([x, w, slopes], eps: 1e-4, atol: 5e-3) { $0[0].conv2d($0[1], padding: 1, prelu: $0[2]) }
    }

    func testConvolutionOfPartsSameBytesAsOfTheirConcatenation() {
        // Strided (the im2col path, read in place) and stride-1 (direct: concatenated first); with PReLU.
        // Direct (stride 1 and 2 at width 90) and im2col (stride 2 at width 50) paths, with an activation and with PReLU.
        for (stride, width) in [(2, 50), (2, 90), (1, 50)] {
            let parts = [randomTensor([1, 3, 9, width], seed: 70, requiresGrad: false), randomTensor([1, 1, 9, width], seed: 71, requiresGrad: false),
                         randomTensor([1, 4, 9, width], seed: 72, requiresGrad: false)]
            let w = randomTensor([6, 8, 3, 3], seed: 73, requiresGrad: false), b = randomTensor([6], seed: 74, requiresGrad: false)
            let slopes = randomTensor([6], seed: 75, requiresGrad: false)
            let g = ConvGeometry(inChannels: 8, outChannels: 6, inHeight: 9, inWidth: width, kernel: 3, stride: stride, pad: 1)
            XCTAssertTrue(Convolution.takesSeparatePlanes(g))
            XCTAssertEqual(Convolution.usesDirectPath(g), width / stride >= 40)
            let expected = Tensor.concat(parts).conv2d(w, bias: b, geometry: g, activation: .leakyReLU(0.2))
            let fromParts = Tensor.inferenceMode { Tensor.conv2d(concatenationOf: parts, w, bias: b, geometry: g, activation: .leakyReLU(0.2)) }
            XCTAssertEqual(fromParts.data, expected.data, "stride \(stride), width \(width)")
            let withPReLU = Tensor.inferenceMode { Tensor.conv2d(concatenationOf: parts, w, bias: b, geometry: g, prelu: slopes) }
            XCTAssertEqual(withPReLU.data, Tensor.concat(parts).conv2d(w, bias: b, geometry: g).prelu(slopes).data, "stride \(stride), width \(width)")
        }
        // Recorded: the concatenation, with gradients flowing to every part.
        let tracked = [randomTensor([1, 2, 5, 6], seed: 76), randomTensor([1, 1, 5, 6], seed: 77)]
        let g = ConvGeometry(inChannels: 3, outChannels: 2, inHeight: 5, inWidth: 6, kernel: 3, stride: 2, pad: 1)
        let w2 = randomTensor([2, 3, 3, 3], seed: 78)
        checkGradients(tracked + [w2]) { Tensor.conv2d(concatenationOf: Array($0[0..<2]), $0[2], bias: nil, geometry: g) }
    }

    func testAddingResizedSameBytesAsThreeSteps() {
        let base = randomTensor([1, 4, 12, 20], seed: 81, requiresGrad: false), update = randomTensor([1, 4, 3, 5], seed: 82, requiresGrad: false)
        let mode = Resize.Mode.bilinear(alignCorners: false)
        let expected = base + update.resized(height: 12, width: 20, mode: mode) * 4
        XCTAssertEqual(Tensor.inferenceMode { base.addingResized(update, scale: 4, mode: mode) }.data, expected.data)
    }

    func testResizeViaAnIntermediateSizeMatchesTwoResizes() {
        // RIFE v4's hand-over: up to full resolution, down to the next block's (and plain upsampling, odd sizes).
        let x = randomTensor([1, 3, 6, 10], seed: 80, requiresGrad: false)
        for (via, out) in [((96, 160), (12, 20)), ((48, 80), (24, 40)), ((13, 17), (7, 30)), ((24, 40), (24, 40))] {
            for mode in [Resize.Mode.bilinear(alignCorners: false), .bilinear(alignCorners: true)] {
                let twoSteps = x.resized(height: via.0, width: via.1, mode: mode).resized(height: out.0, width: out.1, mode: mode)
                let oneStep = Tensor.inferenceMode { x.resized(height: out.0, width: out.1, via: via.0, via.1, mode: mode) }
                XCTAssertEqual(oneStep.shape, twoSteps.shape)
                // Tolerance: the composed weights are exact and the two steps round twice; values are O(1).
                for (a, b) in zip(oneStep.data, twoSteps.data) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(via) → \(out) \(mode)") }
            }
        }
    }

    func testFusedPReLUAfterTransposedConvolutionSameBytes() {
        // 4×4 / 2 / 1 (phase-decomposed: PReLU in the convolution's epilogue) and 3×3 / 2 / 1 (not decomposable:
        // the adjoint path, PReLU applied after it); gradients when recorded.
        for (k, p) in [(4, 1), (3, 1)] {
            let x = randomTensor([1, 5, 6, 7], seed: 90, requiresGrad: false), w = randomTensor([5, 3, k, k], seed: 91, requiresGrad: false)
            let b = randomTensor([3], seed: 92, requiresGrad: false)
            let slopes = Tensor(shape: [3], data: [0.25, -0.5, 0.1])
            let expected = x.convTranspose2d(w, bias: b, stride: 2, padding: p).prelu(slopes)
            let fused = Tensor.inferenceMode { x.convTranspose2d(w, bias: b, stride: 2, padding: p, prelu: slopes) }
            XCTAssertEqual(fused.data, expected.data, "k \(k)")
        }
        let x = randomTensor([1, 2, 3, 4], seed: 93), w = randomTensor([2, 3, 4, 4], seed: 94)
        let slopes = Tensor(shape: [3], data: [0.25, -0.5, 0.1], requiresGrad: true)
        checkGradients([x, w, slopes], eps: 1e-4, atol: 5e-3) { $0[0].convTranspose2d($0[1], stride: 2, padding: 1, prelu: $0[2]) }
    }

    func testInferenceModeRecordsNothing() {
        let x = randomTensor([1, 2, 4, 4], seed: 1), w = randomTensor([2, 2, 3, 3], seed: 2)
        let y = Tensor.inferenceMode { x.conv2d(w, padding: 1).relu() }
        XCTAssertNil(y.backwardFunction)
        XCTAssertTrue(y.parents.isEmpty)
    }
}

final class MovementAndSamplingGradientTests: XCTestCase {
    func testGradients() {
        let a = randomTensor([2, 3, 4, 5], seed: 1), b = randomTensor([2, 2, 4, 5], seed: 2)
        checkGradients([a, b]) { Tensor.concat([$0[0], $0[1]]) }
        checkGradients([a]) { $0[0].slice(axis: 1, 1..<3) }
        checkGradients([randomTensor([1, 8, 3, 2], seed: 3)]) { $0[0].pixelShuffle(2) }
        checkGradients([a]) { $0[0].avgPool(2) }
        checkGradients([a]) { $0[0].resized(height: 7, width: 9, mode: .bilinear(alignCorners: false)) }
        checkGradients([a]) { $0[0].resized(height: 3, width: 8, mode: .bilinear(alignCorners: true)) }
        let x = randomTensor([1, 2, 5, 6], seed: 4), w = randomTensor([2, 3, 4, 4], seed: 5)
        checkGradients([x, w]) { $0[0].convTranspose2d($0[1], stride: 2, padding: 1) }
        // Warping: keep the flow away from integer positions, where bilinear weights have kinks.
        let flow = Tensor(shape: [1, 2, 5, 6], data: (0..<60).map { Float($0 % 7) * 0.31 - 0.93 + 0.05 }, requiresGrad: true)
        checkGradients([x, flow], eps: 1e-3, atol: 3e-3) { $0[0].warped(by: $0[1]) }
        checkGradients([x, flow], eps: 1e-3, atol: 3e-3) { $0[0].warped(by: $0[1], padding: .zeros) }
    }

    func testWarpByChannelsOfALargerFlowInPlace() {
        // Channels 2 and 3 of a 4-channel flow, batch 2 (the planes are read in place with the batch stride of 4).
        let x = randomTensor([2, 3, 10, 19], seed: 81, requiresGrad: false)
        let flow = Tensor(shape: [2, 4, 10, 19], data: randomTensor([2, 4, 10, 19], seed: 82).data.map { $0 * 3 })
        XCTAssertEqual(x.warped(byChannelsOf: flow, from: 2).data, x.warped(by: flow.slice(axis: 1, 2..<4)).data)
        XCTAssertEqual(x.warped(byChannelsOf: flow, from: 0, padding: .zeros).data,
                       x.warped(by: flow.slice(axis: 1, 0..<2), padding: .zeros).data)
    }

    func testWarpByHand() {
        // Flow of +1 in x reads the right neighbour; at the right edge border padding repeats the last column.
        let x = Tensor(shape: [1, 1, 1, 3], data: [1, 2, 3])
        let flow = Tensor(shape: [1, 2, 1, 3], data: [1, 1, 1, 0, 0, 0])
        XCTAssertEqual(x.warped(by: flow).data, [2, 3, 3])
        XCTAssertEqual(x.warped(by: flow, padding: .zeros).data, [2, 3, 0])
        let half = Tensor(shape: [1, 2, 1, 3], data: [0.5, 0.5, 0.5, 0, 0, 0])
        XCTAssertEqual(x.warped(by: half, padding: .zeros).data, [1.5, 2.5, 1.5])
    }

    func testUntrackedWarpSameBytesAsTrackedPath() {
        // Without gradients `warped` takes Sampling.warp (corners once per point for all channels); with them,
        // Sampling.forward at precomputed positions. Flows up to ±6 px reach past the 9×11 border; ±1.5 px on
        // 20×37 leave runs of eight points inside (the vector path).
        for (shape, scale) in [([2, 3, 9, 11], Float(6)), ([1, 4, 20, 37], 1.5)] {
            let x = randomTensor(shape, seed: 21, requiresGrad: false)   // untracked, or both sides take the tracked path
            let flowShape = [shape[0], 2, shape[2], shape[3]]
            let flow = Tensor(shape: flowShape, data: randomTensor(flowShape, seed: 22).data.map { $0 * scale })
            let tracked = Tensor(shape: flow.shape, data: flow.data, requiresGrad: true)
            for padding in [Sampling.Padding.border, .zeros] {
                XCTAssertEqual(x.warped(by: flow, padding: padding).data, x.warped(by: tracked, padding: padding).data,
                               "\(shape) \(padding)")
            }
        }
        // A smooth flow (a shift plus a slow wave) leaves runs of eight consecutive corners, read as plain vector
        // loads, mixed with runs that are not.
        let (h, w) = (12, 64)
        let x = randomTensor([1, 3, h, w], seed: 23, requiresGrad: false)
        var smooth = [Float](repeating: 0, count: 2 * h * w)
        for r in 0..<h { for c in 0..<w {
            smooth[r * w + c] = 2.3 + 0.8 * sin(Float(c) / 7); smooth[h * w + r * w + c] = -1.6 + 0.3 * cos(Float(r + c) / 5)
        } }
        let flow = Tensor(shape: [1, 2, h, w], data: smooth)
        XCTAssertEqual(x.warped(by: flow).data, x.warped(by: Tensor(shape: flow.shape, data: smooth, requiresGrad: true)).data)
        // Several tensors by one flow (one set of corners for all): the same bytes as warping each.
        let features = randomTensor([1, 4, h, w], seed: 24, requiresGrad: false)
        for padding in [Sampling.Padding.border, .zeros] {
            let together = Tensor.warped([x, features], byChannelsOf: flow, from: 0, padding: padding)
            XCTAssertEqual(together[0].data, x.warped(by: flow, padding: padding).data)
            XCTAssertEqual(together[1].data, features.warped(by: flow, padding: padding).data)
        }
    }
}

final class MoreGradientTests: XCTestCase {
    func testPReLUSoftmaxPaddingAndPerChannelBroadcast() {
        let away = Tensor(shape: [1, 2, 1, 3], data: [-0.9, 0.4, -0.2, 0.3, -0.6, 0.8], requiresGrad: true)
        checkGradients([away, Tensor(shape: [2], data: [0.25, 0.1], requiresGrad: true)]) { $0[0].prelu($0[1]) }
        let x = randomTensor([2, 4, 3, 3], seed: 1)
        checkGradients([x]) { $0[0].softmaxChannels() }
        for mode in [PaddingMode.zeros, .replicate, .reflect] {
            checkGradients([x]) { $0[0].padded(top: 1, bottom: 2, left: 2, right: 0, mode: mode) }
        }
        checkGradients([x, randomTensor([1, 4, 1, 1], seed: 2)]) { $0[0] * $0[1] + $0[1] }
        checkGradients([x, Tensor(shape: [4, 1, 1], data: [1.5, 2, 0.7, 1.1], requiresGrad: true)]) { $0[0] / $0[1] - $0[1] }
        // Reflect padding by hand: [1 2 3] padded by 2 on the left reads 3 2 | 1 2 3.
        let r = Tensor(shape: [1, 1, 1, 3], data: [1, 2, 3]).padded(top: 0, bottom: 0, left: 2, right: 1, mode: .reflect)
        XCTAssertEqual(r.data, [3, 2, 1, 2, 3, 2])
    }
}

final class BufferReuseTests: XCTestCase {
    func testInferenceModeRecyclesStorageWithoutChangingResults() {
        BufferPool.shared.drain()
        let x = randomTensor([1, 8, 32, 32], seed: 1, requiresGrad: false), w = randomTensor([8, 8, 3, 3], seed: 2, requiresGrad: false)
        let first = Tensor.inferenceMode { x.conv2d(w, padding: 1).relu().data }
        let hitsBefore = BufferPool.shared.hits
        let second = Tensor.inferenceMode { x.conv2d(w, padding: 1).relu().data }
        XCTAssertGreaterThan(BufferPool.shared.hits, hitsBefore, "the second run takes the first run's buffers")
        XCTAssertEqual(first, second)
        // Outside inference mode nothing is recycled into results that gradients may still read.
        let y = x.conv2d(w, padding: 1)
        XCTAssertEqual(y.data, Tensor.inferenceMode { x.conv2d(w, padding: 1) }.data)
    }
}

final class TrainingRecyclingTests: XCTestCase {
    /// The pool only takes storage no other array shares; this pins the array layout the check relies on.
    func testUniquenessOfArrayStorage() {
        var a = [Float](repeating: 1, count: 5000)
        XCTAssertTrue(BufferPool.isUnique(&a))
        var b = a
        XCTAssertFalse(BufferPool.isUnique(&a))
        b[0] = 2   // b copies on write: both are unique again
        XCTAssertTrue(BufferPool.isUnique(&a)); XCTAssertTrue(BufferPool.isUnique(&b))
    }

    /// Steps with storage recycled give the same loss and gradients, to the byte, as steps without, and take their
    /// buffers from the pool from the second step on.
    func testRecycledTrainingStepsGiveTheSameBytes() {
        let w = randomTensor([8, 3, 3, 3], seed: 3), x = randomTensor([2, 3, 40, 40], seed: 4, requiresGrad: false)
        func step() -> [[Float]] {
            let y = x.conv2d(w, padding: 1).leakyReLU(0.1)
            let loss = (y.squared() + y.abs()).sqrt().mean() + (y / (y.squared() + 1)).sum() * 1e-4
            loss.backward()
            defer { w.zeroGrad() }
            return [[loss.scalar], w.grad!.data]
        }
        let saved = Tensor.recyclesRecorded
        defer { Tensor.recyclesRecorded = saved }
        Tensor.recyclesRecorded = false
        let plain = step()
        Tensor.recyclesRecorded = true
        BufferPool.shared.drain()
        let first = step()
        let hits = BufferPool.shared.hits
        let second = step()
        XCTAssertGreaterThan(BufferPool.shared.hits, hits, "the second step reuses the first step's storage")
        XCTAssertEqual(first, plain); XCTAssertEqual(second, plain)
    }
}
