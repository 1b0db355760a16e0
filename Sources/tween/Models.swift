import ArgumentParser
import Foundation
import Models

/// `tween models`: every method in the model table, what it supports and whether its weights are installed.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List interpolation methods and what each supports.")

    @OptionGroup var weights: WeightsOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Entry: Codable {
        var name: String; var summary: String; var arbitrary_t: Bool; var context_frames: Int
        var weight_file: String?; var installed: Bool; var default_model: Bool
    }

    func run() throws {
        try weights.apply()
        let defaultModel = WeightStore.defaultModel
        let entries = ModelRegistry.entries.map { e in
            Entry(name: e.info.name, summary: e.info.summary, arbitrary_t: e.info.arbitraryT,
                  context_frames: 2 + e.info.contextBefore + e.info.contextAfter, weight_file: e.weightFile,
                  installed: WeightStore.isInstalled(e.info.name), default_model: e.info.name == defaultModel)
        }
        if json { printJSON(entries); return }
        let nameWidth = entries.map(\.name.count).max()! + 3
        print("name".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "any t   frames  installed  summary")
        for e in entries {
            let name = e.name + (e.default_model ? "*" : "")
            print(name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                  + (e.arbitrary_t ? "yes" : "½ only").padding(toLength: 8, withPad: " ", startingAt: 0)
                  + "\(e.context_frames)".padding(toLength: 8, withPad: " ", startingAt: 0)
                  + (e.installed ? "yes" : "no").padding(toLength: 11, withPad: " ", startingAt: 0)
                  + e.summary)
        }
        print("* default: the first installed of \(ModelRegistry.defaultPreference.joined(separator: ", "))")
        for e in entries where !e.installed {
            print("\(e.name): \(WeightStore.howToInstall(e.weight_file ?? e.name)) (into \(WeightStore.directory))")
        }
    }
}
