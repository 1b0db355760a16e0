import XCTest
import Models
import NN
import Tensor
@testable import Training

/// Recipes: parsing, the errors a mistyped recipe gets (one line naming the file and the key), and the model table.
final class RecipeTests: XCTestCase {
    func parse(_ json: String) throws -> Recipe { try Recipe.parse(Data(json.utf8), source: "r.json") }

    func assertRefused(_ json: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(json), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("r.json: ") && text.contains(message), text, file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "one line", file: file, line: line)
        }
    }

    func testARecipeParsesWithStagesCountedFromTheStart() throws {
        let r = try parse("""
        {"model": "sepconv", "architecture": {"width": 4, "kernel": 7}, "teacher": "rife-hdv3",
         "stages": [{"until": 100, "seed": 3, "lr": 3e-4, "losses": {"displacement": 0.1}, "init": {"start": "displacement_decoder"}},
                    {"name": "decay", "until": 250, "seed": 4, "lr": 1e-4, "decay_from": 100, "cache": {"samples": 600, "pair_fraction": 0.2}}]}
        """)
        XCTAssertEqual(r.stages.count, 2); XCTAssertEqual(r.steps, 250)
        XCTAssertEqual(r.start(ofStage: 1), 100)
        XCTAssertEqual(r.stageIndex(at: 0), 0); XCTAssertEqual(r.stageIndex(at: 99), 0); XCTAssertEqual(r.stageIndex(at: 100), 1)
        XCTAssertEqual(r.stages[0].start?.start, "displacement_decoder")
        XCTAssertEqual(r.stages[1].cache?.pairFraction, 0.2)
        // The JSON written into weight files reads back as the same recipe.
        XCTAssertEqual(try Recipe.parse(Data(r.json.utf8), source: "metadata"), r)
    }

    /// Every committed recipe (runs/*/recipe.json) parses and passes the checks made before any data is loaded, and
    /// every `init.from` it names is a file in the repository or the output of the recipe beside it.
    func testEveryCommittedRecipeValidates() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let runs = root.appendingPathComponent("runs")
        let folders = try FileManager.default.contentsOfDirectory(atPath: runs.path).sorted()
        var checked = 0
        for folder in folders {
            let path = runs.appendingPathComponent(folder).appendingPathComponent("recipe.json")
            guard FileManager.default.fileExists(atPath: path.path) else { continue }
            let recipe = try Recipe.parse(try Data(contentsOf: path), source: path.path)
            try recipe.validate(source: path.path)
            for stage in recipe.stages {
                guard let from = stage.start?.from else { continue }
                let file = path.deletingLastPathComponent().appendingPathComponent(from)
                let producer = file.deletingLastPathComponent().appendingPathComponent("recipe.json").path
                XCTAssertTrue(FileManager.default.fileExists(atPath: file.path) || FileManager.default.fileExists(atPath: producer),
                              "\(path.path): init.from \(from) is neither in the repository nor made by a recipe beside it")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 4, "runs/ holds the recipes of the shipped models and of DVF")
    }

    func testMistakesAreOneLineNamingTheFileAndTheKey() {
        assertRefused(#"{"model": "sepconv", "stages": [{"until": 10, "seed": 1, "lr": 1e-3, "batchsize": 4}]}"#, "unknown key \"batchsize\" in stage 1")
        assertRefused(#"{"model": "sepconv", "stage": []}"#, "unknown key \"stage\" in the recipe")
        assertRefused(#"{"model": "nope", "stages": [{"until": 10, "seed": 1, "lr": 1e-3}]}"#, "model \"nope\" cannot be trained here")
        assertRefused(#"{"model": "dvf", "architecture": {"depth": 3}, "stages": [{"until": 10, "seed": 1, "lr": 1e-3}]}"#, "architecture key \"depth\"")
        assertRefused(#"{"model": "dvf", "stages": [{"until": 10, "seed": 1, "lr": 1e-3, "losses": {"l2": 1}}]}"#, "loss \"l2\" is not one of dvf's")
        assertRefused(#"{"model": "dvf", "stages": [{"until": 10, "seed": 1, "lr": 1e-3, "init": {"start": "blend"}}]}"#, "init.start \"blend\"")
        assertRefused(#"{"model": "sepconv", "stages": [{"until": 10, "seed": 1, "lr": 1e-3, "init": {"start": "blend", "settings": {"blend_scal": 1}}}]}"#, "init.settings key \"blend_scal\" is not one of blend's (blend_scale)")
        assertRefused(#"{"model": "dvf", "stages": [{"until": 10, "seed": 1, "lr": 1e-3}, {"until": 5, "seed": 1, "lr": 1e-3}]}"#, "stage 2 ends at step 5")
        assertRefused(#"{"model": "dvf", "stages": [{"until": 10, "seed": 1, "lr": 1e-3, "crop": 100}]}"#, "crop must be a multiple of 64")
        assertRefused(#"{"model": "dvf", "stages": [{"until": 10, "seed": 1, "lr": 1e-3, "scenes": "fancy"}]}"#, "scenes must be one of affine, layered")
        assertRefused(#"{"model": "dvf", "stages": [{"until": 10, "seed": 1}]}"#, "missing \"lr\"")
        assertRefused(#"{"model": "dvf", "stages": [{"until": 10, "seed": 1, "lr": 1e-3, "cache": {"pair_fraction": 0.2}}]}"#, "pair_fraction needs a teacher")
        assertRefused(#"{"model": "dvf", "stages": [{"until": "ten", "seed": 1, "lr": 1e-3}]}"#, "wrong type for stage 1.until")
    }

    /// The trainable table: each entry builds its model with its defaults, and its losses name every part they report.
    func testEveryTrainableModelBuildsAndReportsItsLosses() throws {
        var rng = SeededRandom(seed: 4)
        let scenes = SyntheticScenes(photos: TrainingPipelineTests.photos, maxMotion: 4)
        var sample = scenes.triplet(size: 32, t: 0.5, rng: &rng)
        sample.teacherFlow = [Float](repeating: 0.5, count: 4 * 32 * 32)
        sample.teacherMask = [Float](repeating: 0.5, count: 32 * 32)
        let small: [String: [String: Double]] = ["superslomo": ["width": 2], "sepconv": ["width": 2, "kernel": 5], "dvf": ["width": 2],
                                                    "adaconv": ["width": 2, "head_width": 24, "kernel": 5]]
        XCTAssertEqual(Set(TrainableModels.names), Set(small.keys))
        for name in TrainableModels.names {
            let model = try TrainableModels.make(name, architecture: small[name]!, seed: 1)
            let parts = model.losses(TrainingBatch([sample]), weights: [:])
            XCTAssertFalse(parts.isEmpty)
            for (part, value) in parts {
                XCTAssertNotNil(model.defaultLossWeights[part], "\(name) reports \(part), which a recipe cannot weigh")
                XCTAssertTrue(value.scalar.isFinite, "\(name) \(part)")
            }
            XCTAssertNotNil(model.architectureMetadata["architecture"])
        }
    }

    /// DVF learns from privileged distillation: on a batch whose teacher says the content moves by (2, −1) px over the
    /// gap with equal weights, thirty steps bring the voxel flow's displacement and weight towards it, and the total
    /// loss falls by a third.
    func testDVFDistillationPullsTheVoxelFlowToTheTeacher() {
        var rng = SeededRandom(seed: 9)
        let scenes = SyntheticScenes(photos: TrainingPipelineTests.photos, maxMotion: 4)
        var sample = scenes.triplet(size: 32, t: 0.5, rng: &rng)
        // Fₜ→₀ = (−1, 0.5), Fₜ→₁ = (1, −0.5): D = Fₜ→₁ − Fₜ→₀ = (2, −1).
        sample.teacherFlow = [-1, 0.5, 1, -0.5].flatMap { [Float](repeating: $0, count: 32 * 32) }
        sample.teacherMask = [Float](repeating: 0.5, count: 32 * 32)
        let student = DVFStudent(DVF(widths: [4, 8, 8, 8, 8, 4], flowScale: 16, seed: 3))
        let trainer = Trainer(model: student, schedule: .constant(3e-3))
        trainer.lossWeights = ["distil_flow": 1, "distil_mask": 1, "census": 0]
        func distance() -> Float {
            student.network.training = false
            let flow = Tensor.inferenceMode { student.network.voxelFlow(TrainingBatch([sample]).first, TrainingBatch([sample]).last) }
            let d = flow.displacement.data, n = 32 * 32
            return (0..<n).map { abs(d[$0] - 2) + abs(d[n + $0] + 1) }.reduce(0, +) / Float(n)
        }
        let before = distance()
        let first = trainer.step([sample])
        XCTAssertEqual(first.parts.map(\.0), ["l1", "flow_tv", "mask_tv", "distil_flow", "distil_mask"])
        var last = first
        for _ in 0..<30 { last = trainer.step([sample]) }
        XCTAssertLessThan(last.loss, first.loss * 0.67, "loss \(first.loss) → \(last.loss)")
        XCTAssertLessThan(distance(), before * 0.5, "the displacement moves towards the teacher's (2, −1)")
    }
}
