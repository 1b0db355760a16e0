import Foundation
import XCTest
import Tensor

/// The PyTorch goldens of Scripts/make_goldens.py (Fixtures/goldens/engine.json).
public enum Goldens {
    public struct Values: Decodable { public let shape: [Int]; public let data: [Float] }
    public struct Case: Decodable {
        public let name: String
        public let inputs: [String: Values]
        public let output: Values
        public let upstream: [Float]
        public let grads: [String: [Float]]
    }
    struct File: Decodable { let torch: String; let cases: [Case] }

    public static let cases: [Case] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/goldens/engine.json")
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: path)).cases
    }()

    /// Runs `op` on the case's inputs and compares the output and the inputs' gradients (for the case's upstream
    /// gradient) with PyTorch's: |ours − theirs| ≤ 1e-5 + 1e-4·|theirs| (both float32, different summation orders).
    public static func check(_ name: String, file: StaticString = #filePath, line: UInt = #line,
                             _ op: ([String: Tensor]) -> Tensor) {
        guard let c = cases.first(where: { $0.name == name }) else { return XCTFail("no golden \(name)", file: file, line: line) }
        let inputs = c.inputs.mapValues { Tensor(shape: $0.shape, data: $0.data, requiresGrad: true) }
        let out = op(inputs)
        XCTAssertEqual(out.shape, c.output.shape, name, file: file, line: line)
        guard out.shape == c.output.shape else { return }
        var worst: Float = 0
        for i in 0..<out.count { worst = max(worst, Swift.abs(out.data[i] - c.output.data[i]) / (1e-5 + 1e-4 * Swift.abs(c.output.data[i]))) }
        XCTAssertLessThanOrEqual(worst, 1, "\(name) output: worst error \(worst)× the tolerance", file: file, line: line)
        (out * Tensor(shape: out.shape, data: c.upstream)).sum().backward()
        for (key, expected) in c.grads {
            guard let g = inputs[key]?.grad else { XCTFail("\(name): no gradient for \(key)", file: file, line: line); continue }
            var worst: Float = 0
            for i in 0..<expected.count { worst = max(worst, Swift.abs(g.data[i] - expected[i]) / (1e-5 + 1e-4 * Swift.abs(expected[i]))) }
            XCTAssertLessThanOrEqual(worst, 1, "\(name) gradient of \(key): worst error \(worst)× the tolerance", file: file, line: line)
        }
    }
}
