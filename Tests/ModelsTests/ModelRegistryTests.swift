import XCTest
@testable import Models
import NN
import Tensor

/// The model table: one entry per method, its name spelled once (by the model's own `info`), and every model the
/// registry builds reports the entry it was built from.
final class ModelRegistryTests: XCTestCase {
    func testNamesAreUniqueAndWeightFilesFollowThem() {
        let names = ModelRegistry.names
        XCTAssertEqual(Set(names).count, names.count, "\(names)")
        XCTAssertEqual(names, ["nearest", "blend", "rife-hdv3", "rife-v4.25", "superslomo", "sepconv", "dvf", "adaconv"])
        for e in ModelRegistry.entries {
            XCTAssertEqual(e.weightFile, e.info.needsWeights ? e.info.name + ".safetensors" : nil, e.info.name)
        }
        XCTAssertTrue(ModelRegistry.defaultPreference.allSatisfy(names.contains))
        XCTAssertEqual(ModelRegistry.weightFile("SepConv"), "sepconv.safetensors")
        XCTAssertNil(ModelRegistry.weightFile("blend"))
        XCTAssertNil(ModelRegistry.weightFile("no-such-model"))
    }

    /// Each model is built from its weight file (the goldens' small networks stand in for the shipped weights) and
    /// reports the registry's info, field by field.
    func testBuiltModelsReportTheirEntry() throws {
        let goldens = RIFEParityTests.goldens
        // RIFE's goldens are of narrower networks than the official ones, which the registry builds.
        let files = ["superslomo.safetensors": "superslomo_small", "sepconv.safetensors": "sepconv_small",
                     "adaconv.safetensors": "adaconv_small"]
        var requested: [String] = []
        func load(_ file: String) throws -> Safetensors.File {
            requested.append(file)
            guard let golden = files[file] else { throw LoadError(source: file, problems: ["not in this test"]) }
            var f = try Safetensors.read(goldens + "/\(golden).safetensors")
            var w: [String: Tensor] = [:]
            for (k, v) in f.tensors where k.hasPrefix("weights.") { w[String(k.dropFirst("weights.".count))] = v }
            f.tensors = w
            return f
        }
        for e in ModelRegistry.entries where e.weightFile == nil || files[e.weightFile!] != nil {
            requested = []
            let model = try ModelRegistry.make(e.info.name.uppercased(), weights: load)
            XCTAssertEqual(requested, e.weightFile.map { [$0] } ?? [], e.info.name)
            let i = model.info
            XCTAssertEqual([i.name, i.summary], [e.info.name, e.info.summary])
            XCTAssertEqual([i.arbitraryT, i.needsWeights, i.swapSymmetric], [e.info.arbitraryT, e.info.needsWeights, e.info.swapSymmetric], e.info.name)
            XCTAssertEqual([i.contextBefore, i.contextAfter], [e.info.contextBefore, e.info.contextAfter], e.info.name)
        }
        XCTAssertThrowsError(try ModelRegistry.make("no-such-model")) { XCTAssertTrue("\($0)".contains("unknown model 'no-such-model'"), "\($0)") }
    }
}
