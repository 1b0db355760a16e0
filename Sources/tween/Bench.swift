import ArgumentParser
import Foundation
import Kernels

/// `tween bench engine`: the engine's kernels against the machine's FMA peak.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (release build): `tween bench engine` measures the kernels against the FMA peak.")

    @Argument(help: ArgumentHelp("What to measure: engine.", valueName: "suite"))
    var suite: String = "engine"

    @Option(name: .long, help: ArgumentHelp("Worker threads (default: TWEEN_THREADS or all cores).", valueName: "N"))
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Timed repetitions per layer; the median is reported.", valueName: "N"))
    var repeats: Int = 7

    @Option(name: .long, help: ArgumentHelp("Only layers whose name contains this.", valueName: "text"))
    var filter: String?

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Row: Codable { var name: String; var pass: String; var ms: Double; var gflops: Double; var percent_of_peak: Double }
    struct Report: Codable { var peak_gflops: Double; var threads: Int; var layers: [Row] }

    func validate() throws {
        guard suite == "engine" else { throw ValidationError("unknown suite '\(suite)'; available: engine") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let pool = ThreadPool(threads: threads ?? ThreadPool.defaultThreads)
        let peak = (0..<3).map { _ in Peak.fmaGFLOPS(iterations: 20_000_000) }.sorted()[1]
        var rows: [Row] = []
        for layer in EngineLayers.all where filter.map({ layer.name.contains($0) }) ?? true {
            let ms = layer.measure(pool: pool, repeats: repeats)
            let gflops = layer.flops / (ms * 1e-3) / 1e9
            let row = Row(name: layer.name, pass: "forward", ms: ms, gflops: gflops,
                          percent_of_peak: 100 * gflops / (peak * Double(pool.threads)))
            rows.append(row)
            if !json {
                print(layer.name.padding(toLength: 26, withPad: " ", startingAt: 0) + "forward  "
                      + String(format: "%9.2f ms %8.1f GFLOP/s %6.1f%% of peak", ms, gflops, row.percent_of_peak))
            }
        }
        if json { printJSON(Report(peak_gflops: peak, threads: pool.threads, layers: rows)) }
        else { print(String(format: "single-core FMA peak %.1f GFLOP/s; %d thread(s)", peak, pool.threads)) }
    }
}

/// The benchmark's layers, each with its FLOP count and a timed closure.
struct EngineLayers {
    let name: String
    let flops: Double
    let body: (ThreadPool) -> Void

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
        let packed = w.withUnsafeBufferPointer { Convolution.packWeights($0.baseAddress!, g) }
        return EngineLayers(name: name, flops: g.flops) { pool in
            packed.withUnsafeBufferPointer { pw in
                bias.withUnsafeBufferPointer { pb in
                    Convolution.forward(input: x, batch: 1, packedWeights: pw.baseAddress!, bias: pb.baseAddress!,
                                        output: y, geometry: g, pool: pool)
                }
            }
        }
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
         gemm("gemm_128_4096_1152", m: 128, n: 4096, k: 1152)]
    }
}
