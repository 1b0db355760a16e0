// swift-tools-version:6.0
import PackageDescription

// AVX2 + FMA code generation is required for SIMD8<Float> to lower to vector FMAs (docs/ENGINE.md);
// -Ounchecked drops overflow traps and bounds checks in release builds of the hot paths.
let simd: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell"]),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Tween",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tween", targets: ["tween"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev", "libavfilter-dev"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        .target(name: "Frames", swiftSettings: simd),
        // CPUID, for choosing the AVX-512 micro-kernels at run time.
        .target(name: "CCPUFeatures"),
        // The AVX-512 micro-kernels, compiled for x86-64-v4 and only called where the CPU has it.
        .target(name: "KernelsAVX512", swiftSettings: [
            .unsafeFlags(["-target-cpu", "skylake-avx512"]),
            .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
        ]),
        .target(name: "Kernels", dependencies: ["CCPUFeatures", "KernelsAVX512"], swiftSettings: simd),
        .target(name: "Tensor", dependencies: ["Kernels"], swiftSettings: simd),
        .target(name: "NN", dependencies: ["Tensor", "Kernels"], swiftSettings: simd),
        .target(name: "Media", dependencies: ["CFFmpeg", "CPNG", "Frames"], swiftSettings: simd),
        .target(name: "Models", dependencies: ["Frames", "NN", "Tensor", "Kernels"], swiftSettings: simd),
        .target(name: "Interpolation", dependencies: ["Frames", "Models", "Kernels"], swiftSettings: simd),
        // PSNR and SSIM with the benchmarks' conventions, for eval and training alike.
        .target(name: "ImageQuality", dependencies: ["Frames", "Kernels"], swiftSettings: simd),
        // Training data (clips, synthetic scenes, teacher cache) and the training loop; no file formats but safetensors.
        .target(name: "Training", dependencies: ["Models", "NN", "Tensor", "Kernels"], swiftSettings: simd),
        .executableTarget(
            name: "tween",
            dependencies: [
                "Media", "Frames", "Models", "Interpolation", "ImageQuality", "Kernels", "NN", "Tensor", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Weights trained here (float16 safetensors), found next to the executable at run time.
            resources: [.copy("Weights")],
            swiftSettings: simd
        ),
        .testTarget(name: "FramesTests", dependencies: ["Frames"], swiftSettings: simd),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "KernelsAVX512"], swiftSettings: simd),
        // Gradient checking shared by the engine's test targets.
        .target(name: "TestSupport", dependencies: ["Tensor"], path: "Tests/TestSupport", swiftSettings: simd),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "Kernels", "TestSupport"], swiftSettings: simd),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "Kernels", "TestSupport"], swiftSettings: simd),
        .testTarget(name: "MediaTests", dependencies: ["Media", "Frames"], swiftSettings: simd),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Tensor", "Frames"], swiftSettings: simd),
        .testTarget(name: "ImageQualityTests", dependencies: ["ImageQuality", "Frames"], swiftSettings: simd),
        .testTarget(name: "InterpolationTests", dependencies: ["Interpolation", "Models", "Frames"], swiftSettings: simd),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "NN", "Tensor", "TestSupport"], swiftSettings: simd),
        .testTarget(name: "CLITests", dependencies: ["Media", "Frames"], swiftSettings: simd),
    ],
    swiftLanguageModes: [.v5]
)
