import Foundation
import Frames

/// A contact sheet, for choosing among methods by eye rather than by a column of PSNRs. One column per picture:
/// - row 1: the reference (the ground truth, or without one the two inputs blended) and each method's frame,
///   labelled with its name (and PSNR against the truth);
/// - row 2: the inputs blended (where things move) and each method's error map, |frame − truth| × 4 averaged over
///   RGB (without a truth, |frame − the methods' mean| × 4: where it disagrees with the others), white the largest;
/// - row 3: one square of every picture of row 1, enlarged: the square where the methods differ most, outlined in
///   red on row 1.
/// Pictures wider than the sheet allows are shrunk by a whole factor (box filter); the enlarged squares keep every
/// pixel.
public enum ContactSheet {
    public struct Entry: Sendable {
        public var label: String
        public var image: Image
        public init(label: String, image: Image) { self.label = label; self.image = image }
    }

    static let background: Float = 0.12, gap = 2
    static let labelColour: [Float] = [0.95, 0.95, 0.95], outlineColour: [Float] = [1, 0.15, 0.15]

    public static func make(truth: Image?, first: Image, last: Image, methods: [Entry], maxWidth: Int = 3072) -> Image {
        precondition(!methods.isEmpty, "a contact sheet needs at least one method")
        let (w, h) = (first.width, first.height)
        let rgb = { (im: Image) in im.channels == 3 ? im : Image(width: im.width, height: im.height, channels: 3, data: Array(im.data[0..<(3 * im.planeSize)])) }
        let frames = methods.map { rgb($0.image) }, truthRGB = truth.map(rgb)
        let blend = Image(width: w, height: h, channels: 3, data: zip(rgb(first).data, rgb(last).data).map { ($0 + $1) / 2 })
        let reference = truthRGB ?? blend
        let mean = Image(width: w, height: h, channels: 3, data: (0..<(3 * w * h)).map { i in
            frames.reduce(0) { $0 + $1.data[i] } / Float(frames.count)
        })

        // Where the methods differ most (with one method: where it differs from the reference).
        let side = max(8, min(w, h) / 4)
        let square = disagreementSquare(frames.count > 1 ? frames : frames + [reference], side: side)

        let columns = 1 + frames.count
        let shrink = max(1, (columns * w + maxWidth - 1) / maxWidth)
        let (cw, ch) = (w / shrink, h / shrink)
        let scale = cw >= 400 ? 2 : 1
        let line = (BitmapFont.height + 2) * scale, label = 2 * line + 4
        let zoom = max(1, min(cw, ch) / side), zoomed = side * zoom
        let rowHeights = [ch, ch, max(zoomed, 1)].map { $0 + label }
        var sheet = Image(width: columns * cw + (columns + 1) * gap, height: rowHeights.reduce(0, +) + 4 * gap,
                          channels: 3, fill: background)

        // Two lines of label over each picture, cut to the picture's width.
        let fits = max(1, (cw - 2) / (BitmapFont.advance * scale))
        func place(_ im: Image, column: Int, row: Int, text: String, detail: String = "", outline: Bool = false) {
            let x0 = gap + column * (cw + gap), y0 = gap + rowHeights[..<row].reduce(0, +) + row * gap
            for (i, t) in [text, detail].enumerated() {
                BitmapFont.draw(String(t.prefix(fits)), into: &sheet, x: x0 + 2, y: y0 + 2 + i * line, scale: scale, colour: labelColour)
            }
            let top = y0 + label
            for c in 0..<3 { for y in 0..<min(im.height, rowHeights[row] - label) { for x in 0..<min(im.width, cw) {
                sheet[c, top + y, x0 + x] = im[c, y, x]
            } } }
            guard outline else { return }
            let (sx, sy, s) = (square.x / shrink, square.y / shrink, max(2, side / shrink))
            for i in 0..<s {
                for (x, y) in [(sx + i, sy), (sx + i, sy + s - 1), (sx, sy + i), (sx + s - 1, sy + i)] where x < cw && y < ch {
                    for c in 0..<3 { sheet[c, top + y, x0 + x] = outlineColour[c] }
                }
            }
        }

        let rowOne = [(truth == nil ? "inputs" : "truth", truth == nil ? "blended" : "", reference)] + zip(methods, frames).map { entry, frame in
            (entry.label, truthRGB.map { String(format: "%.2f dB", Metrics.psnr(frame, $0)) } ?? "", frame)
        }
        for (i, (text, detail, im)) in rowOne.enumerated() {
            place(shrunk(im, by: shrink), column: i, row: 0, text: text, detail: detail, outline: true)
            place(enlarged(crop(im, x: square.x, y: square.y, side: side), by: zoom), column: i, row: 2,
                  text: text, detail: i == 0 ? "zoom ×\(zoom)" : "")
        }
        place(shrunk(blend, by: shrink), column: 0, row: 1, text: "inputs", detail: "blended")
        for (i, frame) in frames.enumerated() {
            let against = truthRGB ?? mean
            let map = (0..<(w * h)).map { p -> Float in
                min(1, 4 * (0..<3).reduce(0) { $0 + abs(frame.data[$1 * w * h + p] - against.data[$1 * w * h + p]) } / 3)
            }
            let grey = Image(width: w, height: h, channels: 3, data: map + map + map)
            place(shrunk(grey, by: shrink), column: i + 1, row: 1, text: methods[i].label, detail: truth == nil ? "diff ×4" : "error ×4")
        }
        return sheet
    }

    /// The top-left corner of the `side` × `side` square (in steps of side/8) with the largest total disagreement
    /// Σ over pictures and RGB of |picture − their mean|; the first such square in reading order on ties.
    public static func disagreementSquare(_ images: [Image], side: Int) -> (x: Int, y: Int) {
        let (w, h) = (images[0].width, images[0].height)
        guard side < w || side < h else { return (0, 0) }
        let n = Float(images.count)
        // Summed-area table of the per-pixel disagreement, in Double so that large frames keep their precision.
        var table = [Double](repeating: 0, count: (w + 1) * (h + 1))
        for y in 0..<h {
            var row = 0.0
            for x in 0..<w {
                var d: Float = 0
                for c in 0..<3 {
                    let i = (c * h + y) * w + x
                    let m = images.reduce(0) { $0 + $1.data[i] } / n
                    d += images.reduce(0) { $0 + abs($1.data[i] - m) }
                }
                row += Double(d)
                table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row
            }
        }
        let step = max(1, side / 8), s = min(side, w, h)
        var best = (x: 0, y: 0), bestSum = -1.0
        for y in stride(from: 0, through: h - s, by: step) { for x in stride(from: 0, through: w - s, by: step) {
            let sum = table[(y + s) * (w + 1) + x + s] - table[y * (w + 1) + x + s] - table[(y + s) * (w + 1) + x] + table[y * (w + 1) + x]
            if sum > bestSum { bestSum = sum; best = (x, y) }
        } }
        return best
    }

    static func crop(_ im: Image, x: Int, y: Int, side: Int) -> Image {
        let (sw, sh) = (min(side, im.width - x), min(side, im.height - y))
        var out = Image(width: sw, height: sh, channels: 3)
        for c in 0..<3 { for j in 0..<sh { for i in 0..<sw { out[c, j, i] = im[c, y + j, x + i] } } }
        return out
    }

    /// Each pixel a `k` × `k` square (nearest neighbour), so the pixels stay visible.
    static func enlarged(_ im: Image, by k: Int) -> Image {
        guard k > 1 else { return im }
        var out = Image(width: im.width * k, height: im.height * k, channels: 3)
        for c in 0..<3 { for y in 0..<out.height { for x in 0..<out.width { out[c, y, x] = im[c, y / k, x / k] } } }
        return out
    }

    /// The mean of each `k` × `k` block.
    static func shrunk(_ im: Image, by k: Int) -> Image {
        guard k > 1 else { return im }
        var out = Image(width: im.width / k, height: im.height / k, channels: 3)
        for c in 0..<3 { for y in 0..<out.height { for x in 0..<out.width {
            var sum: Float = 0
            for j in 0..<k { for i in 0..<k { sum += im[c, y * k + j, x * k + i] } }
            out[c, y, x] = sum / Float(k * k)
        } } }
        return out
    }
}
