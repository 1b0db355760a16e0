import Foundation
import CCPUFeatures
import KernelsAVX512
/// Convolution without any packing of the input: the input is padded once, and the micro-kernel reads each tap's
/// nr (24 or 48) output pixels straight from the padded input row (offset by the tap), so small layers
/// (32 channels), where im2col packing costs as much as the arithmetic, run at the GEMM's speed.
/// Stride 2 works the same way because the padded copy splits every row into its even and odd columns: the
/// pixels one tap reads for consecutive outputs are then consecutive too.
extension Convolution {
    /// Whether `forward` takes the direct path for this geometry.
    public static func usesDirectPath(_ g: ConvGeometry) -> Bool {
        guard g.kernelHeight * g.kernelWidth > 1 else { return false }
        let unitStride = g.strideX == 1 && g.strideY == 1
        let halfStride = g.strideX == 2 && g.strideY == 2 && g.dilationX == 1 && g.dilationY == 1
        guard unitStride || halfStride else { return false }
        if let v = directOverride { return v }
        // Direct wins where the GEMM depth is small and loses from 64 channels up, where the taps' input rows no
        // longer share L1. With few output channels packing B costs more than the multiply at any depth, so those
        // go direct too, and with 5×5 and larger windows up to 24 (the input gradient of a 7×7 20 → 8 layer, a 7×7
        // 8 → 20 convolution: 1.6× faster direct); at stride 2 the direct path wins deeper still (docs/ENGINE.md,
        // "Kernel choices").
        let fewOutputs = g.outPerGroup <= (g.kernelHeight * g.kernelWidth >= 25 ? 24 : 16)
        return g.outWidth >= 40 && (g.depth <= (halfStride ? 512 : 320) || fewOutputs)
    }
    nonisolated(unsafe) static var directOverride: Bool? = ProcessInfo.processInfo.environment["TWEEN_CONV_DIRECT"].map { $0 == "1" }

    /// Pads one group of one image into `dst`: [c][ih + pads][iw + pads], with `slack` floats after it so that a
    /// tile reaching past the last row end stays inside the buffer. Channel c is read from `planes[c]` when
    /// given (a concatenation never built), else from x + c·ih·iw. With stride 2 each padded row holds its even
    /// columns, then its odd ones.
    static func padInput(_ x: UnsafePointer<Float>, planes: UnsafePointer<UnsafePointer<Float>>?, channels: Int, _ g: ConvGeometry,
                         into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let ph = g.inHeight + g.padTop + g.padBottom, pw = g.inWidth + g.padLeft + g.padRight
        let (xA, dA, pA) = (Int(bitPattern: x), Int(bitPattern: dst), Int(bitPattern: planes))
        let split = g.strideX == 2, evens = (pw + 1) / 2
        pool.parallelFor(channels) { c in
            let x = UnsafePointer<Float>(bitPattern: xA)!, dst = UnsafeMutablePointer<Float>(bitPattern: dA)!
            let src = UnsafePointer<UnsafePointer<Float>>(bitPattern: pA).map { $0[c] } ?? x + c * g.inHeight * g.inWidth
            let out = dst + c * ph * pw
            for y in 0..<ph {
                let row = out + y * pw
                guard let sy = g.source(y - g.padTop, g.inHeight) else {
                    row.update(repeating: 0, count: pw); continue
                }
                let s = src + sy * g.inWidth
                @inline(__always) func padded(_ xx: Int) -> Float { g.source(xx - g.padLeft, g.inWidth).map { s[$0] } ?? 0 }
                if !split {
                    for xx in 0..<g.padLeft { row[xx] = padded(xx) }
                    (row + g.padLeft).update(from: s, count: g.inWidth)
                    for xx in (g.padLeft + g.inWidth)..<pw { row[xx] = padded(xx) }
                    continue
                }
                // Padded column xx goes to row[xx / 2] (even) or row[evens + xx / 2] (odd); 32 at a time inside.
                var xx = 0
                while xx < pw {
                    if xx >= g.padLeft && xx + 32 <= g.padLeft + g.inWidth && xx % 2 == 0 {
                        let v = UnsafeRawPointer(s + xx - g.padLeft).loadUnaligned(as: SIMD32<Float>.self)
                        UnsafeMutableRawPointer(row + xx / 2).storeBytes(of: v.evenHalf, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(row + evens + xx / 2).storeBytes(of: v.oddHalf, as: SIMD16<Float>.self)
                        xx += 32
                    } else {
                        row[xx % 2 == 0 ? xx / 2 : evens + xx / 2] = padded(xx)
                        xx += 1
                    }
                }
            }
        }
    }

    static func forwardDirect(input x: UnsafePointer<Float>, planes: UnsafePointer<UnsafePointer<Float>>? = nil, batch: Int,
                              packedWeights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, output y: UnsafeMutablePointer<Float>,
                              geometry g: ConvGeometry, activation: Activation, pool: ThreadPool) {
        precondition(planes == nil || (batch == 1 && g.groups == 1), "direct convolution: separate planes are one image, one group")
        let per = GEMM.packedASize(m: g.outPerGroup, k: g.depth)
        let ph = g.inHeight + g.padTop + g.padBottom, pw = g.inWidth + g.padLeft + g.padRight
        let nr = GEMM.nr
        let strided = g.strideX == 2
        // Where each column tap starts within a padded row, and how far one output row moves.
        let tapOffsets = (0..<g.kernelWidth).map { kx in strided ? (kx % 2 == 0 ? kx / 2 : (pw + 1) / 2 + kx / 2) : kx * g.dilationX }
        let outRowStep = strided ? 2 * pw : pw, tapRowStep = g.dilationY * pw
        let slack = nr + pw
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
        tapOffsets.withUnsafeBufferPointer { offsetsBuffer in
        let offsetsAddress = Int(bitPattern: offsetsBuffer.baseAddress!)
        for n in 0..<batch {
            for group in 0..<g.groups {
                let image = x + (n * g.inChannels + group * g.inPerGroup) * g.inHeight * g.inWidth
                padInput(image, planes: planes, channels: g.inPerGroup, g, into: padded, pool: pool)
                let a = packedWeights + group * per
                let out = y + (n * g.outChannels + group * g.outPerGroup) * outPlane
                let b = bias.map { $0 + group * g.outPerGroup }
                let (pAddr, oAddr) = (Int(bitPattern: padded), Int(bitPattern: out))
                pool.parallelFor(chunks) { chunk in
                    let padded = UnsafePointer<Float>(bitPattern: pAddr)!, out = UnsafeMutablePointer<Float>(bitPattern: oAddr)!
                    let tapOffsets = UnsafePointer<Int>(bitPattern: offsetsAddress)!
                    for oy in (chunk * rowsPerChunk)..<min(oh, (chunk + 1) * rowsPerChunk) {
                        for tile in 0..<tilesPerRow {
                            let ox0 = tile * nr, cols = min(nr, ow - ox0)
                            let origin = padded + oy * outRowStep + ox0   // tap (0, 0) of pixel ox0, before its offset
                            for mp in 0..<mPanels {
                                directKernel(g: g, width: nr, planeSize: ph * pw, rowStep: tapRowStep, tapOffsets: tapOffsets,
                                             uniformTaps: !strided, a: a + mp * GEMM.mr * g.depth,
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
    }

    @inline(__always)
    static func directKernel(g: ConvGeometry, width: Int, planeSize: Int, rowStep: Int, tapOffsets: UnsafePointer<Int>,
                             uniformTaps: Bool, a: UnsafePointer<Float>, origin: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                             ldc: Int, rows: Int, cols: Int, bias: UnsafePointer<Float>?, activation: Activation) {
        if width == AVX512Tiles.width {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * width) { t in
                let tile = t.baseAddress!
                if uniformTaps {
                    AVX512Tiles.direct(channels: g.inPerGroup, planeSize: planeSize, kernelHeight: g.kernelHeight,
                                       kernelWidth: g.kernelWidth, rowStep: rowStep, tapStep: g.dilationX,
                                       a: a, origin: origin, tile: tile)
                } else {
                    AVX512Tiles.direct(channels: g.inPerGroup, planeSize: planeSize, kernelHeight: g.kernelHeight,
                                       kernelWidth: g.kernelWidth, rowStep: rowStep, tapOffsets: tapOffsets,
                                       a: a, origin: origin, tile: tile)
                }
                GEMM.writeTile(tile, width: width, c: c, ldc: ldc, rows: rows, cols: cols, accumulate: false, bias: bias,
                               activation: activation)
            }
            return
        }
        var acc = Tile4x24()
        var pa = a
        let kh = g.kernelHeight, kw = g.kernelWidth
        for ci in 0..<g.inPerGroup {
            var rowPtr = origin + ci * planeSize
            for _ in 0..<kh {
                for kx in 0..<kw {
                    let pb = rowPtr + tapOffsets[kx]
                    // The next tile's pixels of this tap: a tile reads one short run from each of its C·kh rows,
                    // too many streams for the hardware prefetchers (the loads stalled on L1 misses).
                    tween_prefetch(pb + 24); tween_prefetch(pb + 40)
                    acc.step(pa, load8(pb), load8(pb + 8), load8(pb + 16))
                    pa += 4
                }
                rowPtr += rowStep
            }
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 96) { t in
            let tile = t.baseAddress!
            acc.store(tile)
            GEMM.writeTile(tile, width: 24, c: c, ldc: ldc, rows: rows, cols: cols, accumulate: false, bias: bias, activation: activation)
        }
    }
}
