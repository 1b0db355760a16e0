import XCTest
@testable import Kernels

func conv(_ x: [Float], _ w: [Float], _ bias: [Float]?, batch: Int = 1, _ g: ConvGeometry,
          pool: ThreadPool = ThreadPool(threads: 2)) -> [Float] {
    let packed = w.withUnsafeBufferPointer { Convolution.packWeights($0.baseAddress!, g) }
    var y = [Float](repeating: .nan, count: batch * g.outChannels * g.outHeight * g.outWidth)
    x.withUnsafeBufferPointer { px in packed.withUnsafeBufferPointer { pw in y.withUnsafeMutableBufferPointer { py in
        if let bias {
            bias.withUnsafeBufferPointer { pb in
                Convolution.forward(input: px.baseAddress!, batch: batch, packedWeights: pw.baseAddress!, bias: pb.baseAddress!,
                                    output: py.baseAddress!, geometry: g, pool: pool)
            }
        } else {
            Convolution.forward(input: px.baseAddress!, batch: batch, packedWeights: pw.baseAddress!, bias: nil,
                                output: py.baseAddress!, geometry: g, pool: pool)
        }
    } } }
    return y
}

final class ConvolutionTests: XCTestCase {
    func testHandCheckable3x3() {
        // 3×3 input 1…9, all-ones 3×3 kernel, zero padding 1: each output sums its neighbourhood.
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let g = ConvGeometry(inChannels: 1, outChannels: 1, inHeight: 3, inWidth: 3, kernel: 3, pad: 1)
        XCTAssertEqual(conv(x, [Float](repeating: 1, count: 9), nil, g), [12, 21, 16, 27, 45, 33, 24, 39, 28])
        // Replicate padding: the corner sees 1 four times, 2 twice, 4 twice and 5 once.
        var r = g; r.padding = .replicate
        XCTAssertEqual(conv(x, [Float](repeating: 1, count: 9), nil, r)[0], 21)  // 4·1 + 2·2 + 2·4 + 5
        // Reflect padding: the corner sees 5 4 5 / 2 1 2 / 5 4 5.
        var f = g; f.padding = .reflect
        XCTAssertEqual(conv(x, [Float](repeating: 1, count: 9), nil, f)[0], 33)
        // Stride 2 with bias.
        let s = ConvGeometry(inChannels: 1, outChannels: 1, inHeight: 3, inWidth: 3, kernel: 3, stride: 2, pad: 1)
        XCTAssertEqual(conv(x, [Float](repeating: 1, count: 9), [100], s), [112, 116, 124, 128])
    }

    func testRandomAgainstScalarReference() {
        var cases: [(ConvGeometry, Int)] = []
        cases.append((ConvGeometry(inChannels: 3, outChannels: 7, inHeight: 9, inWidth: 7, kernel: 3, pad: 1), 1))
        cases.append((ConvGeometry(inChannels: 4, outChannels: 5, inHeight: 11, inWidth: 13, kernel: 5, stride: 2, pad: 2), 2))
        cases.append((ConvGeometry(inChannels: 2, outChannels: 9, inHeight: 8, inWidth: 31, kernel: 3, pad: 2, dilation: 2), 1))
        cases.append((ConvGeometry(inChannels: 6, outChannels: 4, inHeight: 7, inWidth: 9, kernel: 3, pad: 1, groups: 2), 1))
        cases.append((ConvGeometry(inChannels: 3, outChannels: 3, inHeight: 9, inWidth: 9, kernel: 3, pad: 1, groups: 3), 1))
        cases.append((ConvGeometry(inChannels: 5, outChannels: 8, inHeight: 1, inWidth: 63, kernel: 1), 1))
        cases.append((ConvGeometry(inChannels: 3, outChannels: 6, inHeight: 10, inWidth: 10, kernel: 7, pad: 3, padding: .reflect), 1))
        cases.append((ConvGeometry(inChannels: 2, outChannels: 3, inHeight: 6, inWidth: 5, kernel: 3, pad: 2, padding: .replicate), 1))
        cases.append((ConvGeometry(inChannels: 40, outChannels: 33, inHeight: 9, inWidth: 9, kernel: 3, pad: 1), 1))  // K > kc
        // The direct (unpacked) path: stride 1, width ≥ 40, small depth; every padding mode, dilation, groups,
        // widths that leave partial 24-pixel tiles.
        cases.append((ConvGeometry(inChannels: 3, outChannels: 5, inHeight: 5, inWidth: 41, kernel: 3, pad: 1), 2))
        cases.append((ConvGeometry(inChannels: 2, outChannels: 7, inHeight: 4, inWidth: 50, kernel: 3, pad: 1, padding: .reflect), 1))
        cases.append((ConvGeometry(inChannels: 2, outChannels: 4, inHeight: 6, inWidth: 47, kernel: 5, pad: 2, padding: .replicate), 1))
        cases.append((ConvGeometry(inChannels: 4, outChannels: 6, inHeight: 5, inWidth: 63, kernel: 3, pad: 2, dilation: 2, groups: 2), 1))
        cases.append((ConvGeometry(inChannels: 3, outChannels: 4, inHeight: 3, inWidth: 45, kernel: 3), 1))   // no padding
        cases.append((ConvGeometry(inChannels: 40, outChannels: 3, inHeight: 3, inWidth: 41, kernel: 3, pad: 1), 1))  // deep, few outputs
        cases.append((ConvGeometry(inChannels: 6, outChannels: 5, inHeight: 4, inWidth: 9, kernel: 1, groups: 1), 2))  // pointwise GEMM
        // Stride 2 on the direct path (even and odd columns split in the padded copy): odd and even input widths,
        // kernels 3 and 4, zero and replicate padding, groups, a partial last tile.
        cases.append((ConvGeometry(inChannels: 3, outChannels: 6, inHeight: 9, inWidth: 101, kernel: 3, stride: 2, pad: 1), 2))
        cases.append((ConvGeometry(inChannels: 5, outChannels: 4, inHeight: 8, inWidth: 96, kernel: 3, stride: 2, pad: 1, padding: .replicate), 1))
        cases.append((ConvGeometry(inChannels: 4, outChannels: 6, inHeight: 7, inWidth: 130, kernel: 4, stride: 2, pad: 1, groups: 2), 1))
        var asym = ConvGeometry(inChannels: 2, outChannels: 2, inHeight: 6, inWidth: 7, kernel: 3)
        asym.kernelWidth = 2; asym.padLeft = 1; asym.padBottom = 2; asym.strideX = 3
        cases.append((asym, 1))
        XCTAssertTrue(Convolution.usesDirectPath(cases[10].0))
        XCTAssertTrue(Convolution.usesDirectPath(cases[14].0))
        XCTAssertFalse(Convolution.usesDirectPath(cases[0].0))
        XCTAssertFalse(Convolution.usesDirectPath(cases[1].0))   // stride 2, too narrow: im2col
        for i in 16...18 { XCTAssertTrue(Convolution.usesDirectPath(cases[i].0), "case \(i)") }
        for (i, (g, batch)) in cases.enumerated() {
            let x = randoms(batch * g.inChannels * g.inHeight * g.inWidth, seed: UInt64(i + 1))
            let w = randoms(g.outChannels * g.depth, seed: UInt64(i + 100))
            let b = randoms(g.outChannels, seed: UInt64(i + 200))
            let y = conv(x, w, b, batch: batch, g), r = Reference.conv2d(x, w, b, batch: batch, g)
            XCTAssertEqual(y.count, r.count)
            // float32 accumulation over `depth` products: 1e-5·√depth.
            let tol = 1e-5 * Float(g.depth).squareRoot() + 1e-6
            for j in 0..<y.count { XCTAssertEqual(y[j], r[j], accuracy: tol, "case \(i) at \(j)") }
        }
    }

    /// dW of stride-1 convolutions against a scalar sum in Double, on both paths (direct for up to 64 output channels,
    /// the GEMM beyond): widths with 8-pixel runs and a scalar tail, output channels in fours and singly, every padding
    /// rule, kernels 3 and 5, two images. Tolerance 1e-4·(1 + |ref|): float sums of up to 2·11·21 products in [-1, 1).
    func testWeightGradientAgainstScalarReference() {
        for (cout, kernel, padding) in [(6, 3, PaddingMode.zeros), (5, 5, .replicate), (7, 3, .reflect), (16, 3, .zeros), (20, 3, .replicate), (8, 7, .zeros), (3, 7, .replicate), (70, 3, .zeros)] {
            let g = ConvGeometry(inChannels: 3, outChannels: cout, inHeight: 11, inWidth: 21, kernel: kernel, pad: kernel / 2,
                                 padding: padding)
            XCTAssertEqual(Convolution.usesDirectWeightGradient(g), cout <= 64)
            let x = randoms(2 * g.inChannels * g.inHeight * g.inWidth, seed: 21)
            let dy = randoms(2 * cout * g.outHeight * g.outWidth, seed: 22)
            var dw = [Float](repeating: .nan, count: cout * g.depth)
            dy.withUnsafeBufferPointer { pdy in x.withUnsafeBufferPointer { px in dw.withUnsafeMutableBufferPointer { pdw in
                Convolution.backwardWeights(gradOutput: pdy.baseAddress!, input: px.baseAddress!, batch: 2, gradWeights: pdw.baseAddress!,
                                            gradBias: nil, geometry: g, pool: ThreadPool(threads: 2))
            } } }
            for o in 0..<cout { for c in 0..<3 { for ky in 0..<kernel { for kx in 0..<kernel {
                var s = 0.0
                for n in 0..<2 { for y in 0..<g.outHeight { for xx in 0..<g.outWidth {
                    guard let sy = g.source(y + ky - kernel / 2, 11), let sx = g.source(xx + kx - kernel / 2, 21) else { continue }
                    s += Double(dy[((n * cout + o) * g.outHeight + y) * g.outWidth + xx]) * Double(x[((n * 3 + c) * 11 + sy) * 21 + sx])
                } } }
                let got = dw[((o * 3 + c) * kernel + ky) * kernel + kx]
                XCTAssertEqual(Double(got), s, accuracy: 1e-4 * (1 + abs(s)), "\(cout) \(kernel) \(padding): o \(o) c \(c) tap \(ky),\(kx)")
            } } } }
        }
    }
}

final class WinogradTests: XCTestCase {
    func testChoice() {
        XCTAssertTrue(Convolution.usesWinograd(ConvGeometry(inChannels: 64, outChannels: 64, inHeight: 128, inWidth: 128, kernel: 3, pad: 1)))
        XCTAssertTrue(Convolution.usesWinograd(ConvGeometry(inChannels: 32, outChannels: 32, inHeight: 192, inWidth: 320, kernel: 3, pad: 1)))
        XCTAssertFalse(Convolution.usesWinograd(ConvGeometry(inChannels: 16, outChannels: 16, inHeight: 256, inWidth: 256, kernel: 3, pad: 1)))
        XCTAssertFalse(Convolution.usesWinograd(ConvGeometry(inChannels: 256, outChannels: 256, inHeight: 32, inWidth: 32, kernel: 3, pad: 1)))
        XCTAssertFalse(Convolution.usesWinograd(ConvGeometry(inChannels: 64, outChannels: 64, inHeight: 128, inWidth: 128, kernel: 3, stride: 2, pad: 1)))
    }

    func testAgainstScalarReference() {
        // Small cases: lower the thresholds so the Winograd path runs on them.
        let savedChannels = Convolution.minimumWinogradChannels
        Convolution.minimumWinogradChannels = 16
        defer { Convolution.minimumWinogradChannels = savedChannels }
        let cases = [
            ConvGeometry(inChannels: 16, outChannels: 16, inHeight: 8, inWidth: 8, kernel: 3, pad: 1),
            ConvGeometry(inChannels: 17, outChannels: 19, inHeight: 9, inWidth: 13, kernel: 3, pad: 1),      // odd sizes
            ConvGeometry(inChannels: 16, outChannels: 20, inHeight: 7, inWidth: 6, kernel: 3),               // no padding
            ConvGeometry(inChannels: 20, outChannels: 16, inHeight: 6, inWidth: 11, kernel: 3, pad: 1, padding: .reflect),
            ConvGeometry(inChannels: 32, outChannels: 32, inHeight: 5, inWidth: 9, kernel: 3, pad: 1, groups: 2, padding: .replicate),
            // Wide enough for runs of eight tiles inside the image (the de-interleaving input and output paths).
            ConvGeometry(inChannels: 16, outChannels: 20, inHeight: 21, inWidth: 75, kernel: 3, pad: 1),
        ]
        for (i, g) in cases.enumerated() {
            XCTAssertTrue(g.kernelHeight == 3 && g.strideX == 1, "case \(i)")
            let batch = i == 1 ? 2 : 1
            let x = randoms(batch * g.inChannels * g.inHeight * g.inWidth, seed: UInt64(i + 1))
            let w = randoms(g.outChannels * g.depth, seed: UInt64(i + 50)), b = randoms(g.outChannels, seed: UInt64(i + 90))
            var y = [Float](repeating: .nan, count: batch * g.outChannels * g.outHeight * g.outWidth)
            x.withUnsafeBufferPointer { px in w.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in y.withUnsafeMutableBufferPointer { py in
                // Called directly: the tile-count threshold would send these small inputs elsewhere.
                Convolution.forwardWinograd(input: px.baseAddress!, batch: batch, weights: pw.baseAddress!, bias: pb.baseAddress!,
                                            output: py.baseAddress!, geometry: g, activation: .none, pool: ThreadPool(threads: 2))
            } } } }
            let r = Reference.conv2d(x, w, b, batch: batch, g)
            // Winograd's transforms add a few roundings: 3e-5·√depth.
            let tol = 3e-5 * Float(g.depth).squareRoot()
            for j in 0..<y.count { XCTAssertEqual(y[j], r[j], accuracy: tol, "case \(i) at \(j)") }
        }
    }
}

final class TransposedConvolutionTests: XCTestCase {
    /// Scalar transposed convolution: every input sample adds weight × value to the outputs its taps reach.
    func reference(_ x: [Float], _ w: [Float], _ b: [Float], batch: Int, cin: Int, cout: Int, h: Int, wd: Int,
                   k: Int, s: Int, p: Int, oh: Int, ow: Int) -> [Float] {
        var y = [Double](repeating: 0, count: batch * cout * oh * ow)
        for n in 0..<batch { for o in 0..<cout { for i in 0..<oh * ow { y[(n * cout + o) * oh * ow + i] = Double(b[o]) } } }
        for n in 0..<batch { for c in 0..<cin { for iy in 0..<h { for ix in 0..<wd {
            let v = Double(x[((n * cin + c) * h + iy) * wd + ix])
            for o in 0..<cout { for ky in 0..<k { for kx in 0..<k {
                let oy = iy * s - p + ky, ox = ix * s - p + kx
                guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                y[((n * cout + o) * oh + oy) * ow + ox] += v * Double(w[((c * cout + o) * k + ky) * k + kx])
            } } }
        } } } }
        return y.map { Float($0) }
    }

    func testPhasesAgainstScalarReference() {
        // (cin, cout, h, w, k, stride, pad): RIFE's 4×4 / 2 / 1 (a 3×3 convolution to 4·Cout channels, on the
        // direct, packed and Winograd paths), 2×2 / 2 / 0 (1×1) and 5×5 / 3 / 1.
        let savedChannels = Convolution.minimumWinogradChannels, savedTiles = Convolution.minimumWinogradTiles
        Convolution.minimumWinogradChannels = 16; Convolution.minimumWinogradTiles = 16
        defer { Convolution.minimumWinogradChannels = savedChannels; Convolution.minimumWinogradTiles = savedTiles }
        let cases = [(5, 3, 6, 7, 4, 2, 1), (9, 4, 5, 50, 4, 2, 1), (3, 2, 4, 5, 2, 2, 0), (4, 3, 5, 4, 5, 3, 1),
                     (20, 5, 17, 19, 4, 2, 1)]
        for (i, (cin, cout, h, w, k, s, p)) in cases.enumerated() {
            let oh = (h - 1) * s - 2 * p + k, ow = (w - 1) * s - 2 * p + k
            var g = ConvGeometry(inChannels: cout, outChannels: cin, inHeight: oh, inWidth: ow, kernel: k, stride: s, pad: p)
            g.padBottom = p; g.padRight = p
            XCTAssertNotNil(Convolution.transposedAsConvolution(g), "case \(i)")
            if i == 4 { XCTAssertTrue(Convolution.usesWinograd(Convolution.transposedAsConvolution(g)!.geometry)) }
            let batch = i == 0 ? 2 : 1
            let x = randoms(batch * cin * h * w, seed: UInt64(70 + i)), wt = randoms(cin * cout * k * k, seed: UInt64(80 + i))
            let b = randoms(cout, seed: UInt64(90 + i))
            var y = [Float](repeating: .nan, count: batch * cout * oh * ow)
            let applied = x.withUnsafeBufferPointer { px in wt.withUnsafeBufferPointer { pw in b.withUnsafeBufferPointer { pb in
                y.withUnsafeMutableBufferPointer { py in
                    Convolution.transposedForward(input: px.baseAddress!, batch: batch, weights: pw.baseAddress!, bias: pb.baseAddress!,
                                                  output: py.baseAddress!, geometry: g, pool: ThreadPool(threads: 2))
                }
            } } }
            XCTAssertTrue(applied)
            let r = reference(x, wt, b, batch: batch, cin: cin, cout: cout, h: h, wd: w, k: k, s: s, p: p, oh: oh, ow: ow)
            // Float sums over the window (Winograd's transforms add a few roundings): 3e-5·√depth.
            let tol = 3e-5 * Float(cin * k * k).squareRoot()
            for j in 0..<r.count { XCTAssertEqual(y[j], r[j], accuracy: tol, "case \(i) at \(j)") }
        }
        // Not decomposable: a kernel that the stride does not divide.
        var odd = ConvGeometry(inChannels: 2, outChannels: 3, inHeight: 9, inWidth: 9, kernel: 3, stride: 2, pad: 1)
        odd.padBottom = 1; odd.padRight = 1
        XCTAssertNil(Convolution.transposedAsConvolution(odd))
    }
}

final class TransformedWeightsTests: XCTestCase {
    func testFoundByContentsNeverStale() {
        let cache = TransformedWeights()
        var w: [Float] = [1, 2, 3, 4]
        var made = 0
        func lookup() -> [Float] {
            w.withUnsafeBufferPointer { p in
                cache.value(for: p.baseAddress!, count: 4, kind: "test") { made += 1; return p.map { $0 * 10 } }
            }
        }
        XCTAssertEqual(lookup(), [10, 20, 30, 40])
        XCTAssertEqual(lookup(), [10, 20, 30, 40])
        XCTAssertEqual(made, 1)   // the second lookup is a hit
        w[2] = 5                   // same storage, new contents (a training step)
        XCTAssertEqual(lookup(), [10, 20, 50, 40])
        XCTAssertEqual(made, 2)
    }
}
