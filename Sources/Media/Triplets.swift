import Foundation

/// One evaluation item: two input frames and the true middle frame.
public struct Triplet: Sendable {
    public let name: String
    public let first: String
    public let truth: String
    public let last: String
}

/// Finds triplets in the common benchmark layouts, anywhere below a folder.
public enum TripletFinder {
    /// (first, truth, last) file names of each layout: Middlebury, frame0/1/2, Vimeo-90K, DVF.
    static let layouts: [(String, String, String)] = [
        ("frame10.png", "frame10i11.png", "frame11.png"),
        ("frame0.png", "frame1.png", "frame2.png"),
        ("im1.png", "im2.png", "im3.png"),
        ("frame_00.png", "frame_01_gt.png", "frame_02.png"),
    ]

    public static func find(in root: String) throws -> [Triplet] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw MediaError(root, "no such folder")
        }
        var folders = [root]
        if let e = FileManager.default.enumerator(atPath: root) {
            while let rel = e.nextObject() as? String {
                let full = (root as NSString).appendingPathComponent(rel)
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), isDir.boolValue { folders.append(full) }
            }
        }
        var out: [Triplet] = []
        for folder in folders {
            for (a, t, b) in layouts {
                let pa = (folder as NSString).appendingPathComponent(a)
                let pt = (folder as NSString).appendingPathComponent(t)
                let pb = (folder as NSString).appendingPathComponent(b)
                if [pa, pt, pb].allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                    var name = String(folder.dropFirst(root.count))
                    while name.hasPrefix("/") { name.removeFirst() }
                    out.append(Triplet(name: name.isEmpty ? (root as NSString).lastPathComponent : name,
                                       first: pa, truth: pt, last: pb))
                    break
                }
            }
        }
        guard !out.isEmpty else {
            throw MediaError(root, "no triplets found (expected frame10/frame10i11/frame11, frame0/1/2, im1/2/3 or frame_00/frame_01_gt/frame_02 PNGs)")
        }
        return out.sorted { ImageSequencePath.naturalLess($0.name, $1.name) }
    }
}
