import Foundation
import XCTest
import TestSupport
@testable import Tensor
@testable import Kernels

/// Our operations against PyTorch's, on the goldens written by Scripts/make_goldens.py (committed; the tests do
/// not need PyTorch). Forward and input gradients (for a fixed upstream gradient) agree to atol 1e-5 + rtol 1e-4:
/// both sides compute in float32, in different summation orders.
final class GoldenTests: XCTestCase {
    func run(_ name: String, _ op: ([String: Tensor]) -> Tensor) { Goldens.check(name, op) }

    func testConvolutions() {
        run("conv3x3_pad1") { $0["x"]!.conv2d($0["w"]!, bias: $0["b"]!, padding: 1) }
        run("conv3x3_stride2") { $0["x"]!.conv2d($0["w"]!, bias: $0["b"]!, stride: 2, padding: 1) }
        run("conv3x3_dilation2") { $0["x"]!.conv2d($0["w"]!, padding: 2, dilation: 2) }
        run("conv3x3_reflect") { $0["x"]!.conv2d($0["w"]!, padding: 1, paddingMode: .reflect) }
        run("conv3x3_replicate") { $0["x"]!.conv2d($0["w"]!, padding: 1, paddingMode: .replicate) }
        run("conv_groups") { $0["x"]!.conv2d($0["w"]!, padding: 1, groups: 6) }
        run("deconv4x4_s2") { $0["x"]!.convTranspose2d($0["w"]!, bias: $0["b"]!, stride: 2, padding: 1) }
    }

    func testGridSample() {
        for align in [true, false] {
            for (pad, mode) in [("zeros", Sampling.Padding.zeros), ("border", .border)] {
                run("grid_sample_\(pad)_align\(align ? 1 : 0)") { $0["x"]!.gridSampled($0["grid"]!, alignCorners: align, padding: mode) }
            }
        }
    }

    func testPoolingResizeShuffle() {
        run("avg_pool2") { $0["x"]!.avgPool(2) }
        run("max_pool2") { $0["x"]!.maxPool(2) }
        for align in [true, false] {
            run("bilinear_7x11_align\(align ? 1 : 0)") { $0["x"]!.resized(height: 7, width: 11, mode: .bilinear(alignCorners: align)) }
            run("bilinear_up2_align\(align ? 1 : 0)") { $0["x"]!.resized(height: 12, width: 16, mode: .bilinear(alignCorners: align)) }
        }
        run("nearest_7x11") { $0["x"]!.resized(height: 7, width: 11, mode: .nearest) }
        run("pixel_shuffle2") { $0["x"]!.pixelShuffle(2) }
    }
}

extension GoldenTests {
    func testActivationsAndPadding() {
        run("softmax_channels") { $0["x"]!.softmaxChannels() }
        run("prelu") { $0["x"]!.prelu($0["weight"]!) }
        run("pad_reflect") { $0["x"]!.padded(top: 1, bottom: 2, left: 2, right: 1, mode: .reflect) }
    }

}
