import ArgumentParser
import Foundation
import Kernels
import Tensor
import Media
import Models
import Training

/// `tween bench engine`: the engine's kernels against the machine's FMA peak. `tween bench train`: training steps
/// of the trainable models at their shipped recipes' settings.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (release build): `engine` measures the kernels against the FMA peak, `train` times training steps.")

    @Argument(help: ArgumentHelp("What to measure: engine or train.", valueName: "suite"))
    var suite: String = "engine"

    @Option(name: .long, help: ArgumentHelp("train: the model (repeatable; default: every trainable model).", valueName: "name"))
    var model: [String] = []

    @Option(name: .long, help: ArgumentHelp("train: the recipe whose last stage sets architecture, crop, batch, losses and optimiser (default: the one in the shipped weights).", valueName: "file"))
    var recipe: String?

    @Option(name: .long, help: ArgumentHelp("train: crop size in place of the recipe's.", valueName: "pixels"))
    var crop: Int?

    @Option(name: .long, help: ArgumentHelp("train: batch size in place of the recipe's.", valueName: "N"))
    var batch: Int?

    @Option(name: .long, help: ArgumentHelp("train: optimisation steps per timed repetition.", valueName: "N"))
    var steps: Int = 4

    @Flag(name: .long, help: "train: print where a step spends its time, per operation, forward and backward.")
    var profile = false

    @OptionGroup var threadOptions: ThreadOptions

    @Option(name: .long, help: ArgumentHelp("Timed repetitions per layer (engine) or model (train); the median is reported.", valueName: "N"))
    var repeats: Int = 7

    @Option(name: .long, help: ArgumentHelp("engine: only layers whose name contains this.", valueName: "text"))
    var filter: String?

    @Flag(name: .long, help: "Print JSON (engine: one object; train: one row per model).")
    var json = false

    struct Row: Codable { var name: String; var pass: String; var ms: Double; var gflops: Double; var percent_of_peak: Double }
    struct Report: Codable { var peak_gflops: Double; var simd: String; var threads: Int; var layers: [Row] }

    func validate() throws {
        guard ["engine", "train"].contains(suite) else { throw ValidationError("unknown suite '\(suite)'; available: engine, train") }
        if let unknown = model.first(where: { !TrainableModels.names.contains($0) }) {
            throw ValidationError("model '\(unknown)' cannot be trained here (trainable: \(TrainableModels.names.joined(separator: ", ")))")
        }
        if recipe != nil && model.count > 1 { throw ValidationError("--recipe sets one model's settings; name at most one --model") }
        guard steps >= 1, repeats >= 1 else { throw ValidationError("--steps and --repeats must be at least 1") }
        if let crop, crop < 32 || crop % 32 != 0 { throw ValidationError("--crop must be a multiple of 32") }
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        if suite == "train" { try runTraining(); return }
        let pool = ThreadPool(threads: threadOptions.threads ?? ThreadPool.defaultThreads)
        let peak = (0..<3).map { _ in Peak.fmaGFLOPS(iterations: 20_000_000) }.sorted()[1]
        var rows: [Row] = []
        for layer in EngineLayers.all where filter.map({ layer.name.contains($0) }) ?? true {
            let ms = layer.measure(pool: pool, repeats: repeats)
            let gflops = layer.flops / (ms * 1e-3) / 1e9
            let row = Row(name: layer.name, pass: layer.pass, ms: ms, gflops: gflops,
                          percent_of_peak: 100 * gflops / (peak * Double(pool.threads)))
            rows.append(row)
            if !json {
                print(layer.name.padding(toLength: 26, withPad: " ", startingAt: 0) + layer.pass.padding(toLength: 9, withPad: " ", startingAt: 0)
                      + String(format: "%9.2f ms %8.1f GFLOP/s %6.1f%% of peak", ms, gflops, row.percent_of_peak))
            }
        }
        if json { printJSON(Report(peak_gflops: peak, simd: SIMDLevel.current.rawValue, threads: pool.threads, layers: rows)) }
        else { print(String(format: "single-core FMA peak %.1f GFLOP/s (%@); %d thread(s)", peak, SIMDLevel.current.rawValue, pool.threads)) }
    }
}

extension Bench {
    struct TrainRow: Codable {
        var model: String; var crop: Int; var batch: Int; var threads: Int
        var samples_per_second: Double; var runs: [Double]; var loss: Float
    }

    func runTraining() throws {
        threadOptions.apply()
        let threads = ThreadPool.shared.threads
        var rows: [TrainRow] = []
        for name in model.isEmpty ? TrainableModels.names : model {
            let bench = try TrainingBenchmark(recipe: try benchRecipe(name), crop: crop, batch: batch)
            let n = bench.stage.batchSize
            _ = bench.run(steps: 1)   // warm-up: first allocations, transformed weights
            var rates: [Double] = [], loss: Float = 0
            for _ in 0..<repeats {
                let r = bench.run(steps: steps)
                rates.append(Double(steps * n) / r.seconds); loss = r.loss
            }
            let median = rates.sorted()[rates.count / 2]
            rows.append(TrainRow(model: name, crop: bench.stage.cropSize, batch: n, threads: threads,
                                 samples_per_second: median, runs: rates, loss: loss))
            if !json {
                print(String(format: "%@ crop %d batch %d, %d thread(s): %.2f samples/s (median of %d × %d steps; runs %@; loss %.4f)",
                             name, bench.stage.cropSize, n, threads, median, repeats, steps,
                             rates.map { String(format: "%.2f", $0) }.joined(separator: ", "), loss))
            }
            if profile { printProfile(bench) }
        }
        if json { printJSON(rows) }
    }

    /// The recipe from --recipe, else the one stored in the model's shipped weights.
    func benchRecipe(_ name: String) throws -> Recipe {
        if let recipe {
            let data = try Data(contentsOf: URL(fileURLWithPath: recipe))
            let parsed = try Recipe.parse(data, source: recipe)
            guard parsed.model == name || model.isEmpty else { throw ValidationError("\(recipe) trains \(parsed.model), not \(name)") }
            return parsed
        }
        let file = ModelRegistry.weightFile(name) ?? name + ".safetensors"
        guard let path = WeightStore.resolve(file) else { throw MediaError(WeightStore.path(file), "model weights not installed") }
        guard let text = try Safetensors.read(path).metadata["recipe"] else {
            throw MediaError(path, "holds no recipe; pass --recipe")
        }
        return try Recipe.parse(Data(text.utf8), source: path + " (recipe metadata)")
    }

    /// One profiled step, per operation name, then the largest operations by output shape.
    func printProfile(_ bench: TrainingBenchmark) {
        let profile = OpProfile()
        Tensor.profile = profile
        let total = bench.run(steps: steps).seconds
        Tensor.profile = nil
        print(String(format: "  profile of %d steps: %.3f s (s per step below)", steps, total))
        print("  operation                         forward  backward  calls/step")
        let per = Double(steps)
        for (name, f, b, calls) in profile.byName.prefix(24) {
            print("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%8.4f  %8.4f  %6d", f / per, b / per, calls / steps))
        }
        print("  largest by output shape:")
        for (key, e) in profile.byShape.prefix(20) {
            print("  " + key.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%8.4f  %8.4f", e.forward / per, e.backward / per))
        }
    }
}

/// The benchmark's layers, each with its FLOP count and a timed closure.
struct EngineLayers {
    let name: String
    var pass = "forward"
    let flops: Double
    let body: (ThreadPool) -> Void

    init(name: String, pass: String = "forward", flops: Double, body: @escaping (ThreadPool) -> Void) {
        self.name = name; self.pass = pass; self.flops = flops; self.body = body
    }

    func measure(pool: ThreadPool, repeats: Int) -> Double {
        body(pool)   // warm-up
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            body(pool)
            let d = ContinuousClock.now - start
            times.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
        }
        return times.sorted()[times.count / 2]
    }

    static func conv(_ name: String, cin: Int, cout: Int, size: Int, kernel: Int) -> EngineLayers {
        let g = ConvGeometry(inChannels: cin, outChannels: cout, inHeight: size, inWidth: size, kernel: kernel, pad: kernel / 2)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: cin * size * size)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: cout * g.outHeight * g.outWidth)
        for i in 0..<(cin * size * size) { x[i] = Float(i % 97) / 97 - 0.5 }
        let w = (0..<(cout * g.depth)).map { Float($0 % 89) / 890 - 0.05 }
        let bias = [Float](repeating: 0.01, count: cout)
        // From raw weights, as the Tensor op runs it (weight packing or transform included, Winograd where it applies).
        return EngineLayers(name: name, flops: g.flops) { pool in
            w.withUnsafeBufferPointer { pw in
                bias.withUnsafeBufferPointer { pb in
                    Convolution.forward(input: x, batch: 1, weights: pw.baseAddress!, bias: pb.baseAddress!,
                                        output: y, geometry: g, pool: pool)
                }
            }
        }
    }

    /// Both gradients of a convolution (input and weights + bias): twice the forward FLOPs.
    static func convBackward(_ name: String, cin: Int, cout: Int, size: Int, kernel: Int) -> EngineLayers {
        let g = ConvGeometry(inChannels: cin, outChannels: cout, inHeight: size, inWidth: size, kernel: kernel, pad: kernel / 2)
        let x = buffer(cin * size * size), dy = buffer(cout * g.outHeight * g.outWidth), w = buffer(cout * g.depth)
        let dx = buffer(cin * size * size), dw = buffer(cout * g.depth), db = buffer(cout)
        return EngineLayers(name: name, pass: "backward", flops: 2 * g.flops) { pool in
            Convolution.backwardInput(gradOutput: dy, weights: w, batch: 1, gradInput: dx, geometry: g, pool: pool)
            Convolution.backwardWeights(gradOutput: dy, input: x, batch: 1, gradWeights: dw, gradBias: db, geometry: g, pool: pool)
        }
    }

    /// The weight gradient alone on both of its paths, at training shapes (batch 8 for the compact widths).
    static func weightGradient(cin: Int, cout: Int, size: Int, batch: Int) -> [EngineLayers] {
        let g = ConvGeometry(inChannels: cin, outChannels: cout, inHeight: size, inWidth: size, kernel: 3, pad: 1)
        let x = buffer(batch * cin * size * size), dy = buffer(batch * cout * size * size), dw = buffer(cout * g.depth)
        let name = "dW3x3_\(cin)_\(cout)_\(size)x\(batch)"
        return [EngineLayers(name: name, pass: "dW direct", flops: Double(batch) * g.flops) { pool in
                    Convolution.backwardWeightsDirect(gradOutput: dy, input: x, batch: batch, gradWeights: dw, geometry: g, pool: pool)
                },
                EngineLayers(name: name, pass: "dW packed", flops: Double(batch) * g.flops) { pool in
                    Convolution.backwardWeightsPacked(gradOutput: dy, input: x, batch: batch, gradWeights: dw, geometry: g, pool: pool)
                }]
    }

    /// A training shape (batch `batch`): forward, input gradient and weight gradient (with the bias's) apart.
    static func trainingLayer(cin: Int, cout: Int, size: Int, kernel: Int, batch: Int) -> [EngineLayers] {
        let g = ConvGeometry(inChannels: cin, outChannels: cout, inHeight: size, inWidth: size, kernel: kernel, pad: kernel / 2)
        let x = buffer(batch * cin * size * size), dy = buffer(batch * cout * size * size), w = buffer(cout * g.depth)
        let y = buffer(batch * cout * size * size), dx = buffer(batch * cin * size * size), dw = buffer(cout * g.depth), db = buffer(cout)
        let name = "train\(kernel)x\(kernel)_\(cin)_\(cout)_\(size)x\(batch)", flops = Double(batch) * g.flops
        return [EngineLayers(name: name, pass: "forward", flops: flops) { pool in
                    Convolution.forward(input: x, batch: batch, weights: w, bias: db, output: y, geometry: g, pool: pool)
                },
                EngineLayers(name: name, pass: "dX", flops: flops) { pool in
                    Convolution.backwardInput(gradOutput: dy, weights: w, batch: batch, gradInput: dx, geometry: g, pool: pool)
                },
                EngineLayers(name: name, pass: "dW", flops: flops) { pool in
                    Convolution.backwardWeights(gradOutput: dy, input: x, batch: batch, gradWeights: dw, gradBias: db, geometry: g, pool: pool)
                }]
    }

    /// The compact models' training layers: Super SloMo (width 8, 256² crops, batch 4) and DVF (128², batch 8).
    static var trainingRows: [EngineLayers] {
        [(20, 8, 256, 7, 4), (8, 8, 256, 7, 4), (16, 8, 256, 3, 4), (8, 16, 128, 5, 4), (32, 16, 128, 3, 4), (64, 32, 64, 3, 4),
         (24, 8, 128, 5, 8), (16, 16, 64, 5, 8)].flatMap { trainingLayer(cin: $0.0, cout: $0.1, size: $0.2, kernel: $0.3, batch: $0.4) }
    }

    static func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
        for i in 0..<n { p[i] = Float(i % 97) / 97 - 0.5 }
        return p
    }

    /// Transposed 4×4 stride-2 convolution, 64 → 32 channels, 128² → 256² (the adjoint of a stride-2 convolution).
    static func deconv() -> EngineLayers {
        var g = ConvGeometry(inChannels: 32, outChannels: 64, inHeight: 256, inWidth: 256, kernel: 4, stride: 2, pad: 1)
        g.padBottom = 1; g.padRight = 1
        let x = buffer(64 * 128 * 128), w = buffer(64 * 32 * 16), y = buffer(32 * 256 * 256)
        return EngineLayers(name: "deconv4x4s2_64_32_128", flops: g.flops) { pool in
            Convolution.backwardInput(gradOutput: x, weights: w, batch: 1, gradInput: y, geometry: g, pool: pool)
        }
    }

    static func upsample() -> EngineLayers {
        let x = buffer(32 * 360 * 640), y = buffer(32 * 720 * 1280)
        // 6 multiply-adds per output sample (two horizontal lerps, one vertical), counted as 2 FLOPs each.
        return EngineLayers(name: "upsample2x_32_360x640", flops: 12 * 32 * 720 * 1280) { pool in
            Resize.forward(x, planes: 32, h: 360, w: 640, into: y, oh: 720, ow: 1280, mode: .bilinear(alignCorners: false), pool: pool)
        }
    }

    static func warp() -> EngineLayers {
        let (h, w) = (720, 1280)
        let x = buffer(3 * h * w), y = buffer(3 * h * w)
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: h * w), ys = UnsafeMutablePointer<Float>.allocate(capacity: h * w)
        for r in 0..<h { for c in 0..<w { xs[r * w + c] = Float(c) + 3.3 * sin(Float(r) / 40); ys[r * w + c] = Float(r) - 2.7 * cos(Float(c) / 50) } }
        return EngineLayers(name: "warp_3_720x1280", flops: 12 * 3 * Double(h * w)) { pool in
            Sampling.forward(x, batch: 1, channels: 3, h: h, w: w, xs: xs, ys: ys, points: h * w, padding: .border, into: y, pool: pool)
        }
    }

    /// The inference warp (`Sampling.warp`): the same positions given as a flow field.
    static func flowWarp() -> EngineLayers {
        let (h, w) = (720, 1280)
        let x = buffer(3 * h * w), y = buffer(3 * h * w), flow = UnsafeMutablePointer<Float>.allocate(capacity: 2 * h * w)
        for r in 0..<h { for c in 0..<w { flow[r * w + c] = 3.3 * sin(Float(r) / 40); flow[h * w + r * w + c] = -2.7 * cos(Float(c) / 50) } }
        return EngineLayers(name: "flowwarp_3_720x1280", flops: 12 * 3 * Double(h * w)) { pool in
            Sampling.warp(x, batch: 1, channels: 3, h: h, w: w, flow: flow, padding: .border, into: y, pool: pool)
        }
    }

    static func sepconv() -> EngineLayers {
        let (k, h, w) = (51, 256, 256)
        let x = buffer(3 * (h + k - 1) * (w + k - 1)), v = buffer(k * h * w), hz = buffer(k * h * w), y = buffer(3 * h * w)
        return EngineLayers(name: "sepconv51_3_256", flops: 2 * Double(3 * h * w) * Double(k * k + k)) { pool in
            LocalConvolution.separable(x, vertical: v, horizontal: hz, batch: 1, channels: 3, height: h, width: w, kernel: k,
                                       into: y, pool: pool)
        }
    }

    /// Backward passes of the remaining layers.
    static func backwardRows() -> [EngineLayers] {
        var rows = [convBackward("conv7x7_6_32_256", cin: 6, cout: 32, size: 256, kernel: 7),
                    convBackward("conv1x1_64_64_128", cin: 64, cout: 64, size: 128, kernel: 1)]
        rows += weightGradient(cin: 8, cout: 8, size: 128, batch: 8) + weightGradient(cin: 16, cout: 16, size: 64, batch: 8)
            + weightGradient(cin: 25, cout: 25, size: 128, batch: 8) + weightGradient(cin: 32, cout: 32, size: 128, batch: 8)
            + weightGradient(cin: 64, cout: 64, size: 128, batch: 1)
        // Transposed convolution: d input is a stride-2 convolution, d weights a weight gradient.
        var g = ConvGeometry(inChannels: 32, outChannels: 64, inHeight: 256, inWidth: 256, kernel: 4, stride: 2, pad: 1)
        g.padBottom = 1; g.padRight = 1
        let dy = buffer(32 * 256 * 256), x = buffer(64 * 128 * 128), w = buffer(64 * 32 * 16)
        let dx = buffer(64 * 128 * 128), dw = buffer(64 * 32 * 16)
        let packed = Convolution.packWeights(w, g)
        rows.append(EngineLayers(name: "deconv4x4s2_64_32_128", pass: "backward", flops: 2 * g.flops) { pool in
            packed.withUnsafeBufferPointer { pw in
                Convolution.forward(input: dy, batch: 1, packedWeights: pw.baseAddress!, bias: nil, output: dx, geometry: g, pool: pool)
            }
            Convolution.backwardWeights(gradOutput: x, input: dy, batch: 1, gradWeights: dw, gradBias: nil, geometry: g, pool: pool)
        })
        let up = buffer(32 * 720 * 1280), upIn = buffer(32 * 360 * 640)
        rows.append(EngineLayers(name: "upsample2x_32_360x640", pass: "backward", flops: 12 * 32 * 720 * 1280) { pool in
            Resize.backward(up, planes: 32, oh: 720, ow: 1280, into: upIn, h: 360, w: 640, mode: .bilinear(alignCorners: false), pool: pool)
        })
        let (h, wd) = (720, 1280)
        let img = buffer(3 * h * wd), gy = buffer(3 * h * wd), gi = buffer(3 * h * wd), gx = buffer(h * wd), gyy = buffer(h * wd)
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: h * wd), ys = UnsafeMutablePointer<Float>.allocate(capacity: h * wd)
        for r in 0..<h { for c in 0..<wd { xs[r * wd + c] = Float(c) + 3.3 * sin(Float(r) / 40); ys[r * wd + c] = Float(r) - 2.7 * cos(Float(c) / 50) } }
        rows.append(EngineLayers(name: "warp_3_720x1280", pass: "backward", flops: 24 * 3 * Double(h * wd)) { pool in
            Sampling.backward(gy, img, batch: 1, channels: 3, h: h, w: wd, xs: xs, ys: ys, points: h * wd, padding: .border,
                              gradInput: gi, gradX: gx, gradY: gyy, pool: pool)
        })
        let k = 51, s = 256
        let sx = buffer(3 * (s + k - 1) * (s + k - 1)), v = buffer(k * s * s), hz = buffer(k * s * s), g2 = buffer(3 * s * s)
        let dsx = buffer(3 * (s + k - 1) * (s + k - 1)), dv = buffer(k * s * s), dh = buffer(k * s * s)
        rows.append(EngineLayers(name: "sepconv51_3_256", pass: "backward", flops: 4 * Double(3 * s * s) * Double(k * k)) { pool in
            LocalConvolution.separableBackward(g2, input: sx, vertical: v, horizontal: hz, batch: 1, channels: 3, height: s, width: s,
                                               kernel: k, gradInput: dsx, gradVertical: dv, gradHorizontal: dh, pool: pool)
        })
        return rows
    }

    /// A plain matrix multiply of the same shape as a convolution's implicit GEMM: the micro-kernel's ceiling.
    static func gemm(_ name: String, m: Int, n: Int, k: Int) -> EngineLayers {
        let a = (0..<(m * k)).map { Float($0 % 89) / 890 }
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        for i in 0..<(k * n) { b[i] = Float(i % 97) / 97 }
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        var packed = [Float](repeating: 0, count: GEMM.packedASize(m: m, k: k))
        a.withUnsafeBufferPointer { pa in packed.withUnsafeMutableBufferPointer { GEMM.packA(pa.baseAddress!, lda: k, m: m, k: k, into: $0.baseAddress!) } }
        return EngineLayers(name: name, flops: 2 * Double(m * n * k)) { pool in
            packed.withUnsafeBufferPointer { pa in
                GEMM.multiply(m: m, n: n, k: k, packedA: pa.baseAddress!, b: MatrixPanels(b, ldb: n), c: c, ldc: n, pool: pool)
            }
        }
    }

    static var all: [EngineLayers] {
        [conv("conv3x3_32_32_256", cin: 32, cout: 32, size: 256, kernel: 3),
         conv("conv3x3_64_64_128", cin: 64, cout: 64, size: 128, kernel: 3),
         conv("conv3x3_128_128_64", cin: 128, cout: 128, size: 64, kernel: 3),
         conv("conv3x3_256_256_32", cin: 256, cout: 256, size: 32, kernel: 3),
         conv("conv7x7_6_32_256", cin: 6, cout: 32, size: 256, kernel: 7),
         conv("conv1x1_64_64_128", cin: 64, cout: 64, size: 128, kernel: 1),
         // Compact Super SloMo (width 8) at 720p: its full- and half-resolution layers (960² ≈ 1280 × 736).
         conv("conv7x7_20_8_960", cin: 20, cout: 8, size: 960, kernel: 7),
         conv("conv7x7_8_8_960", cin: 8, cout: 8, size: 960, kernel: 7),
         conv("conv3x3_16_8_960", cin: 16, cout: 8, size: 960, kernel: 3),
         conv("conv5x5_16_16_480", cin: 16, cout: 16, size: 480, kernel: 5),
         conv("conv3x3_32_16_480", cin: 32, cout: 16, size: 480, kernel: 3),
         deconv(), upsample(), warp(), flowWarp(), sepconv(),
         convBackward("conv3x3_32_32_256", cin: 32, cout: 32, size: 256, kernel: 3),
         convBackward("conv3x3_64_64_128", cin: 64, cout: 64, size: 128, kernel: 3),
         convBackward("conv3x3_128_128_64", cin: 128, cout: 128, size: 64, kernel: 3),
         convBackward("conv3x3_256_256_32", cin: 256, cout: 256, size: 32, kernel: 3),
         gemm("gemm_128_4096_1152", m: 128, n: 4096, k: 1152)] + backwardRows() + trainingRows
    }
}
