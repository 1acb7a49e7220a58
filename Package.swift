// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ArticleSync",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SyncCore", targets: ["SyncCore"]),
        .executable(name: "synccli", targets: ["synccli"]),
        .executable(name: "syncserver", targets: ["SyncServer"]),
        // Benchmarks: the end-to-end bench, and BenchKit for the micro-benchmark package in Benchmarks/.
        .executable(name: "articlesync-bench", targets: ["BenchE2E"]),
        .library(name: "BenchKit", targets: ["BenchKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(
            name: "SyncCore",
            dependencies: [
                "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "synccli",
            dependencies: [
                "SyncCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The sync server: everything lives in SyncServerKit (so tests can build the same app);
        // the executable is a thin @main (hummingbird-template layout).
        .target(
            name: "SyncServerKit",
            dependencies: [
                "SyncCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "SyncServer",
            dependencies: ["SyncServerKit"]
        ),
        .testTarget(
            name: "SyncCoreTests",
            dependencies: ["SyncCore", .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "SyncServerTests",
            dependencies: [
                "SyncServerKit",
                "SyncCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Replays the standard bench workload (scripts/bench/workload.py) through the public Store API.
        .target(name: "BenchKit", dependencies: ["SyncCore", .product(name: "Crypto", package: "swift-crypto")]),
        // `articlesync-bench`: the standard workload on three stores through a real syncserver (BENCHMARKS.md).
        .executableTarget(name: "BenchE2E", dependencies: ["BenchKit", "SyncCore"], path: "Sources/BenchE2E"),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["SyncCore", "BenchKit", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
