import Foundation
import XCTest
import Frames
@testable import Media

/// The repository's Fixtures folder, found from this file's location.
let fixtures: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixture(_ name: String) -> String { (fixtures as NSString).appendingPathComponent(name) }

/// A fresh empty folder for one test, removed afterwards by the caller's tearDown.
func makeScratchFolder(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "tween-tests-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func readAll(_ r: VideoReader) throws -> [Frame] {
    var out: [Frame] = []
    while let f = try r.nextFrame() { out.append(f) }
    return out
}

func psnr(_ x: Image, _ y: Image) -> Double {
    var sum = 0.0
    for i in x.data.indices { let d = Double(x.data[i] - y.data[i]) * 255; sum += d * d }
    return 10 * log10(255 * 255 / max(1e-12, sum / Double(x.data.count)))
}

/// Decodes `path` and encodes it again, passing the decoder's pictures through (or not), returning both.
func reencode(_ path: String, to out: String, codec: String, native: Bool) throws -> ([Frame], [Frame]) {
    let reader = try VideoReader(path: path)
    let frames = try readAll(reader)
    let reader2 = try VideoReader(path: path)
    let writer = try VideoWriter(path: out, settings: EncoderSettings(codec: codec), width: reader.info.width,
                                 height: reader.info.height, rate: reader.info.frameRate, colour: reader.info.colour,
                                 source: reader2, otherStreams: .copy)
    for (i, f) in frames.enumerated() { try writer.write(f.image, native: native ? f.native : nil, index: Int64(i)) }
    try writer.finish()
    return (frames, try readAll(try VideoReader(path: out)))
}

