// swift-tools-version: 6.1
// Micro-benchmarks (ordo-one/benchmark), kept in their own package so that the main package's
// `swift build --build-tests` / `swift test` never build the benchmark plugin or its malloc
// interposer. Run from this directory:
//
//     swift package benchmark                          # run all, print results
//     swift package benchmark thresholds check         # compare with Thresholds/ (fails on regression)
//     swift package --allow-writing-to-package-directory benchmark thresholds update   # re-baseline
//
// See BENCHMARKS.md at the repository root.
import PackageDescription

let package = Package(
    name: "ArticleSyncBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "ArticleSync", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SyncCoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SyncCore", package: "ArticleSync"),
                .product(name: "BenchKit", package: "ArticleSync"),
            ],
            path: "Benchmarks/SyncCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
