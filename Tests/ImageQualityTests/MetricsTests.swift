import XCTest
import Frames
@testable import ImageQuality

final class MetricsTests: XCTestCase {
    func testPSNRByHand() {
        // One sample of 3·4·4 = 48 differs by 10/255: MSE = 100/48, PSNR = 10·log10(255²·48/100).
        let a8 = Image(width: 4, height: 4, fill: 128 / 255)
        var b = a8
        b[1, 2, 3] = (128 + 10) / 255
        XCTAssertEqual(Metrics.psnr(a8, b), 10 * log10(255 * 255 * 48 / 100), accuracy: 1e-9)
        XCTAssertEqual(Metrics.psnr(a8, a8), .infinity)
    }

    func testSSIMOfIdenticalImagesIsOneAndFallsWithNoise() {
        var a = Image(width: 32, height: 24)
        for i in a.data.indices { a.data[i] = Float((i * 37) % 256) / 255 }
        XCTAssertEqual(Metrics.ssim(a, a), 1, accuracy: 1e-12)
        var b = a
        for i in stride(from: 0, to: b.data.count, by: 5) { b.data[i] = 1 - b.data[i] }
        XCTAssertLessThan(Metrics.ssim(a, b), 0.9)
    }

    func testReflectPaddingMatchesScipy() {
        // scipy.ndimage 'reflect': d c b a | a b c d | d c b a
        XCTAssertEqual((-3...6).map { Metrics.reflect($0, 4) }, [2, 1, 0, 0, 1, 2, 3, 3, 2, 1])
    }
}
