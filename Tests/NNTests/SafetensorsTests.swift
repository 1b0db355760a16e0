import Foundation
import XCTest
import TestSupport
@testable import NN
@testable import Tensor

final class SafetensorsTests: XCTestCase {
    var scratch = ""
    override func setUp() {
        scratch = NSTemporaryDirectory() + "tween-st-\(getpid())-\(UUID().uuidString.prefix(6))"
        try! FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testRoundTripsF32AndF16WithMetadata() throws {
        let t = ["a.weight": Tensor(shape: [2, 3], data: [1, -2, 0.5, 3.25, 0, 65504]), "b": Tensor(shape: [1], data: [0.1])]
        try Safetensors.write(t, to: scratch + "/x.safetensors", metadata: ["model": "test", "licence": "MIT"])
        let back = try Safetensors.read(scratch + "/x.safetensors")
        XCTAssertEqual(back.metadata, ["model": "test", "licence": "MIT"])
        XCTAssertEqual(back.tensors["a.weight"]?.data, t["a.weight"]!.data)
        XCTAssertEqual(back.tensors["a.weight"]?.shape, [2, 3])
        try Safetensors.write(t, to: scratch + "/h.safetensors", dtype: .f16)
        let half = try Safetensors.read(scratch + "/h.safetensors")
        XCTAssertEqual(half.dtypes["b"], .f16)
        XCTAssertEqual(half.tensors["a.weight"]?.data, [1, -2, 0.5, 3.25, 0, 65504])   // exactly representable
        XCTAssertEqual(half.tensors["b"]!.data[0], 0.1, accuracy: 1e-4)
    }

    /// Columns shaped like a SepConv tap layer (second differences s, −2s, s of weight s ≈ 11.3 plus small learnt
    /// values): every value comes back float16-representable and within one float16 step of its column's largest value
    /// (the carried error lands on smaller ones), and each
    /// column's sum over the first axis stays within 1e-4 of the float32 sum, where plain rounding misses it by
    /// far more (checked, so the case really needs the carrying).
    func testHalfPrecisionKeepingSumsKeepsColumnSums() {
        let (rows, columns) = (25, 40)
        var data = [Float](repeating: 0, count: rows * columns)
        for j in 0..<columns {
            let s = Float(0.5).squareRoot() * 16 + 0.3 * sin(Float(j))
            let at = j % (rows - 2)
            data[at * columns + j] += s; data[(at + 1) * columns + j] -= 2 * s; data[(at + 2) * columns + j] += s
            for i in 0..<rows { data[i * columns + j] += 0.05 * sin(Float(7 * i + 13 * j)) }
        }
        let t = Tensor(shape: [rows, columns], data: data)
        let kept = t.halfPrecisionKeepingSums()
        func sums(_ v: [Float]) -> [Double] { (0..<columns).map { j in (0..<rows).reduce(0.0) { $0 + Double(v[$1 * columns + j]) } } }
        let exact = sums(data), plain = sums(data.map { Float(Float16($0)) }), carried = sums(kept.data)
        for (i, (v, x)) in zip(kept.data, data).enumerated() {
            let largest = (0..<rows).map { Swift.abs(data[$0 * columns + i % columns]) }.max()!
            XCTAssertEqual(Float(Float16(v)), v)
            XCTAssertLessThanOrEqual(Swift.abs(v - x), largest.ulp(in: Float16.self))
        }
        for j in 0..<columns { XCTAssertEqual(carried[j], exact[j], accuracy: 1e-4, "column \(j)") }
        XCTAssertGreaterThan(zip(plain, exact).map { Swift.abs($0 - $1) }.max()!, 1e-3)
    }

    func testReadsBF16ByHand() throws {
        // Header for one BF16 tensor [2]: 1.0 = 0x3F80, −2.0 = 0xC000.
        let header = #"{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#
        var d = Data(); var n = UInt64(header.utf8.count).littleEndian
        d.append(Data(bytes: &n, count: 8)); d.append(header.data(using: .utf8)!); d.append(contentsOf: [0x80, 0x3F, 0x00, 0xC0])
        XCTAssertEqual(try Safetensors.parse(d).tensors["x"]?.data, [1, -2])
    }

    func testMalformedFilesAreErrorsNotCrashes() throws {
        let good = Safetensors.serialise(["w": Tensor(shape: [4], data: [1, 2, 3, 4])])
        func problem(_ d: Data) -> String { do { _ = try Safetensors.parse(d, path: "f"); return "ok" } catch { return "\(error)" } }
        XCTAssertEqual(problem(Data([1, 2, 3])), "f: not a safetensors file (too short)")
        XCTAssertTrue(problem(good.prefix(good.count - 3)).contains("lies outside the file"), problem(good.prefix(good.count - 3)))
        XCTAssertTrue(problem(good.prefix(20)).hasPrefix("f: truncated or not a safetensors file"))
        var bad = good; bad[8] = 0x78   // "x" where the JSON object opens
        XCTAssertTrue(problem(bad).contains("malformed"), problem(bad))
        let i64 = #"{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
        var d = Data(); var n = UInt64(i64.utf8.count).littleEndian
        d.append(Data(bytes: &n, count: 8)); d.append(i64.data(using: .utf8)!); d.append(Data(count: 8))
        XCTAssertEqual(problem(d), "f: tensor 'x' has unsupported dtype I64 (F32, F16, BF16 are read)")
        // Every prefix of a valid file fails cleanly.
        for cut in stride(from: 0, to: good.count, by: 3) { XCTAssertNotEqual(problem(good.prefix(cut)), "ok") }
        // A folder where a file should be, and a missing file, are one-line errors naming the path.
        let folder = NSTemporaryDirectory() + "tween-st-\(UUID().uuidString).safetensors"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertThrowsError(try Safetensors.read(folder)) { XCTAssertEqual("\($0)", "\(folder): is a folder, not a safetensors file") }
        XCTAssertThrowsError(try Safetensors.read(folder + "/none.safetensors")) { XCTAssertEqual("\($0)", "\(folder)/none.safetensors: no such file") }
    }

    func testLoadingChecksEveryNameAndShape() throws {
        var rng = Initializer(seed: 1)
        let model = Sequential([Conv2d(3, 4, kernel: 3, padding: 1, init: &rng), Function.relu(), Conv2d(4, 2, kernel: 1, init: &rng)])
        XCTAssertEqual(model.stateDict().map(\.0), ["0.weight", "0.bias", "2.weight", "2.bias"])
        var dict = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.0, $0.1.detached()) })
        dict["0.weight"] = Tensor(zeros: [4, 3, 5, 5])
        dict["2.bias"] = nil
        dict["extra"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try model.load(dict, source: "m.safetensors")) {
            XCTAssertEqual("\($0)", "m.safetensors: does not match the model (3 problems): 0.weight: shape [4, 3, 5, 5] in the file, [4, 3, 3, 3] in the model; missing 2.bias [2]; unexpected extra [1]")
        }
        // A correct file loads, and the values arrive.
        let saved = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.0, Tensor(shape: $0.1.shape, data: $0.1.data.map { $0 + 1 })) })
        try Safetensors.write(saved, to: scratch + "/m.safetensors")
        try model.load(try Safetensors.read(scratch + "/m.safetensors").tensors)
        XCTAssertEqual(model.stateDict()[1].1.data, saved["0.bias"]!.data)
    }

    /// NaN or infinite values are refused with the tensors named, and the model keeps its weights.
    func testLoadingRefusesNaNAndInfiniteWeights() throws {
        var rng = Initializer(seed: 1)
        let model = Sequential([Conv2d(3, 4, kernel: 3, padding: 1, init: &rng), Function.relu(), Conv2d(4, 2, kernel: 1, init: &rng)])
        let before = model.stateDict().map { $0.1.data }
        var dict = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.0, $0.1.detached()) })
        dict["0.weight"] = Tensor(shape: [4, 3, 3, 3], data: [Float](repeating: .nan, count: 108))
        dict["2.bias"] = Tensor(shape: [2], data: [1, -.infinity])
        XCTAssertThrowsError(try model.load(dict, source: "m.safetensors")) {
            XCTAssertEqual("\($0)", "m.safetensors: holds NaN or infinite values in 2 tensors: 0.weight (108 of 108), 2.bias (1 of 2); the file is damaged or comes from a run that diverged")
        }
        XCTAssertEqual(model.stateDict().map { $0.1.data }, before)
    }
}

private extension Float {
    /// The spacing of float16 values around this magnitude.
    func ulp(in _: Float16.Type) -> Float { Float(Float16(self).ulp) }
}
