import Foundation
import KernelsAVX512
/// Stride-1 convolution without any packing of the input: the input is padded once, and the micro-kernel reads
/// each tap's nr (24 or 48) output pixels straight from the padded input row (offset by the tap), so small layers
/// (32 channels), where im2col packing costs as much as the arithmetic, run at the GEMM's speed.
extension Convolution {
    /// Whether `forward` takes the direct path for this geometry.
    public static func usesDirectPath(_ g: ConvGeometry) -> Bool {
        guard g.strideX == 1 && g.strideY == 1 && g.kernelHeight * g.kernelWidth > 1 else { return false }
        if let v = directOverride { return v }
        // Measured (tween bench engine, one thread): direct wins where the GEMM depth is small (3×3 from 32
        // channels: 56 against 45 GFLOP/s; 7×7 from 6: 74–95 against 64) and loses from 64 channels up, where the
        // taps' input rows no longer share L1 (58 against 77).
        // With few output channels (7×7 6 → 32's input gradient has 6; RIFE's last deconvolutions, 3×3 45 → 16 at
        // 368×640: 29 → 22 ms on two threads) packing B costs more than the multiply at any depth, so those go
        // direct too.
        return g.outWidth >= 40 && (g.depth <= 320 || g.outPerGroup <= 16)
    }
    nonisolated(unsafe) static var directOverride: Bool? = ProcessInfo.processInfo.environment["TWEEN_CONV_DIRECT"].map { $0 == "1" }

    /// Pads one group of one image into `dst`: [c][ih + pads][iw + pads], with `slack` floats after it so that a
    /// tile reaching past the last row end stays inside the buffer.
    static func padInput(_ x: UnsafePointer<Float>, channels: Int, _ g: ConvGeometry, into dst: UnsafeMutablePointer<Float>,
                         pool: ThreadPool) {
        let ph = g.inHeight + g.padTop + g.padBottom, pw = g.inWidth + g.padLeft + g.padRight
        let (xA, dA) = (Int(bitPattern: x), Int(bitPattern: dst))
        pool.parallelFor(channels) { c in
            let x = UnsafePointer<Float>(bitPattern: xA)!, dst = UnsafeMutablePointer<Float>(bitPattern: dA)!
            let src = x + c * g.inHeight * g.inWidth, out = dst + c * ph * pw
            for y in 0..<ph {
                let row = out + y * pw
                guard let sy = g.source(y - g.padTop, g.inHeight) else {
                    row.update(repeating: 0, count: pw); continue
                }
                let s = src + sy * g.inWidth
                for xx in 0..<g.padLeft { row[xx] = g.source(xx - g.padLeft, g.inWidth).map { s[$0] } ?? 0 }
                (row + g.padLeft).update(from: s, count: g.inWidth)
                for xx in (g.padLeft + g.inWidth)..<pw { row[xx] = g.source(xx - g.padLeft, g.inWidth).map { s[$0] } ?? 0 }
            }
        }
    }

    static func forwardDirect(input x: UnsafePointer<Float>, batch: Int, packedWeights: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>, geometry g: ConvGeometry,
                              activation: Activation, pool: ThreadPool) {
        let per = GEMM.packedASize(m: g.outPerGroup, k: g.depth)
        let ph = g.inHeight + g.padTop + g.padBottom, pw = g.inWidth + g.padLeft + g.padRight
        let nr = GEMM.nr
        let slack = nr + g.kernelWidth * g.dilationX
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.inPerGroup * ph * pw + slack)
        defer { padded.deallocate() }
        // padInput writes every padded element; only the slack past the end needs zeros.
        (padded + g.inPerGroup * ph * pw).update(repeating: 0, count: slack)
        let oh = g.outHeight, ow = g.outWidth, outPlane = oh * ow
        let tilesPerRow = (ow + nr - 1) / nr
        let mPanels = (g.outPerGroup + GEMM.mr - 1) / GEMM.mr
        // Split over output rows, in groups so there are about 8 chunks per thread.
        let rowsPerChunk = max(1, oh / max(1, pool.threads * 8))
        let chunks = (oh + rowsPerChunk - 1) / rowsPerChunk
        for n in 0..<batch {
            for group in 0..<g.groups {
                let image = x + (n * g.inChannels + group * g.inPerGroup) * g.inHeight * g.inWidth
                padInput(image, channels: g.inPerGroup, g, into: padded, pool: pool)
                let a = packedWeights + group * per
                let out = y + (n * g.outChannels + group * g.outPerGroup) * outPlane
                let b = bias.map { $0 + group * g.outPerGroup }
                let (pAddr, oAddr) = (Int(bitPattern: padded), Int(bitPattern: out))
                pool.parallelFor(chunks) { chunk in
                    let padded = UnsafePointer<Float>(bitPattern: pAddr)!, out = UnsafeMutablePointer<Float>(bitPattern: oAddr)!
                    for oy in (chunk * rowsPerChunk)..<min(oh, (chunk + 1) * rowsPerChunk) {
                        for tile in 0..<tilesPerRow {
                            let ox0 = tile * nr, cols = min(nr, ow - ox0)
                            let origin = padded + oy * pw + ox0   // tap (0, 0) of pixel ox0
                            for mp in 0..<mPanels {
                                directKernel(g: g, width: nr, planeSize: ph * pw, rowStride: pw, a: a + mp * GEMM.mr * g.depth,
                                             origin: origin, c: out + mp * GEMM.mr * outPlane + oy * ow + ox0, ldc: outPlane,
                                             rows: min(GEMM.mr, g.outPerGroup - mp * GEMM.mr), cols: cols,
                                             bias: b.map { $0 + mp * GEMM.mr },
                                             activation: activation.from(group * g.outPerGroup + mp * GEMM.mr))
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func directKernel(g: ConvGeometry, width: Int, planeSize: Int, rowStride: Int, a: UnsafePointer<Float>,
                             origin: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
                             bias: UnsafePointer<Float>?, activation: Activation) {
        if width == AVX512Tiles.width {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * width) { t in
                let tile = t.baseAddress!
                AVX512Tiles.direct(channels: g.inPerGroup, planeSize: planeSize, kernelHeight: g.kernelHeight,
                                   kernelWidth: g.kernelWidth, rowStep: g.dilationY * rowStride, tapStep: g.dilationX,
                                   a: a, origin: origin, tile: tile)
                GEMM.writeTile(tile, width: width, c: c, ldc: ldc, rows: rows, cols: cols, accumulate: false, bias: bias,
                               activation: activation)
            }
            return
        }
        var acc = Tile4x24()
        var pa = a
        let kh = g.kernelHeight, kw = g.kernelWidth, dy = g.dilationY * rowStride, dx = g.dilationX
        for ci in 0..<g.inPerGroup {
            var rowPtr = origin + ci * planeSize
            for _ in 0..<kh {
                var pb = rowPtr
                for _ in 0..<kw {
                    acc.step(pa, load8(pb), load8(pb + 8), load8(pb + 16))
                    pa += 4; pb += dx
                }
                rowPtr += dy
            }
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 96) { t in
            let tile = t.baseAddress!
            acc.store(tile)
            GEMM.writeTile(tile, width: 24, c: c, ldc: ldc, rows: rows, cols: cols, accumulate: false, bias: bias, activation: activation)
        }
    }
}
