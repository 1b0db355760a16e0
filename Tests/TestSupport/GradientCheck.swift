import XCTest
import Tensor

public func randomTensor(_ shape: [Int], seed: UInt64, requiresGrad: Bool = true) -> Tensor {
    var s = seed &* 6364136223846793005 &+ 1442695040888963407
    let n = shape.reduce(1, *)
    let data: [Float] = (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: s >> 11) % 2_000_000) / 1_000_000 - 1
    }
    return Tensor(shape: shape, data: data, requiresGrad: requiresGrad)
}

/// Compares every input's analytic gradient of Σ f(inputs)·r (r a fixed random projection) with central
/// finite differences in double-checked float: |analytic − numeric| ≤ atol + rtol·|numeric|.
public func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    let probe = f(inputs)
    let r = randomTensor(probe.shape, seed: 99, requiresGrad: false)
    func objective() -> Double {
        Tensor.inferenceMode {
            let y = f(inputs)
            var s = 0.0
            for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
            return s
        }
    }
    for t in inputs { t.zeroGrad() }
    (f(inputs) * r).sum().backward()
    for (which, t) in inputs.enumerated() where t.requiresGrad {
        guard let g = t.grad else { XCTFail("input \(which) got no gradient", file: file, line: line); continue }
        // Check a spread of elements (all of them for small tensors).
        let step = max(1, t.count / 40)
        for i in stride(from: 0, to: t.count, by: step) {
            let saved = t.data[i]
            t.data[i] = saved + eps; let up = objective()
            t.data[i] = saved - eps; let down = objective()
            t.data[i] = saved
            let numeric = Float((up - down) / Double(2 * eps))
            XCTAssertEqual(g.data[i], numeric, accuracy: atol + rtol * Swift.abs(numeric),
                           "input \(which) element \(i)", file: file, line: line)
        }
    }
}
