// swift-tools-version: 6.2
import PackageDescription

// The module graph (README, "Code layout"). Laptop side, in Sources/SyncCore/:
//   SyncModel ← SyncWire ← SyncStore ← SyncClientKit ← synccli
//   (SyncFailpoints is used by the client, the server routes and the server's SQLite store)
// Server side, in Sources/SyncServer/:
//   SyncModel, SyncWire ← ServerStorage ← ServerStoreSQLite
//                        ← SyncServerKit (HTTP) ← SyncServerCommands ← syncserver
// The server never links SyncStore (GRDB's laptop store, FTS) or SyncClientKit (AsyncHTTPClient);
// scripts/check-modules.py checks that, and that the pure modules import no storage or network.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "ArticleSync",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SyncCore", targets: ["SyncModel", "SyncWire", "SyncStore", "SyncClientKit"]),
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
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // MARK: laptop side

        // Values, ids, clocks and the pure merge rules: no storage, no network.
        .target(
            name: "SyncModel",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/SyncCore/Model",
            swiftSettings: strict
        ),
        // Changeset frames, the op codec and the HTTP vocabulary client and server share.
        .target(
            name: "SyncWire",
            dependencies: ["SyncModel", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/SyncCore/Wire",
            swiftSettings: strict
        ),
        // Named crash points for the fault suite (RELIABILITY.md), off unless ARTICLESYNC_FAILPOINTS says.
        .target(name: "SyncFailpoints", path: "Sources/SyncCore/Failpoints", swiftSettings: strict),
        // The laptop's SQLite store (GRDB): op log, merge state, library, Arabic search, import/export.
        .target(
            name: "SyncStore",
            dependencies: [
                "SyncModel", "SyncWire",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/SyncCore/Store",
            swiftSettings: strict
        ),
        // Push/pull against a sync server, the agent, the HTTP transport (AsyncHTTPClient).
        .target(
            name: "SyncClientKit",
            dependencies: [
                "SyncModel", "SyncWire", "SyncStore", "SyncFailpoints",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/SyncCore/Client",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "synccli",
            dependencies: [
                "SyncModel", "SyncWire", "SyncStore", "SyncClientKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: server side

        // What the server keeps, behind a small protocol (one backend per deployment).
        .target(
            name: "ServerStorage",
            dependencies: ["SyncModel", "SyncWire", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Sources/SyncServer/Storage",
            swiftSettings: strict
        ),
        // The embedded backend: one SQLite file in the data directory.
        .target(
            name: "ServerStoreSQLite",
            dependencies: [
                "ServerStorage", "SyncModel", "SyncWire", "SyncFailpoints",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/SyncServer/SQLite",
            swiftSettings: strict
        ),
        // The HTTP server (Hummingbird): routes, authorisation, limits, metrics.
        .target(
            name: "SyncServerKit",
            dependencies: [
                "ServerStorage", "SyncModel", "SyncWire", "SyncFailpoints",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            path: "Sources/SyncServer/Kit",
            swiftSettings: strict
        ),
        // `syncserver serve` and the admin commands; picks the storage backend.
        .target(
            name: "SyncServerCommands",
            dependencies: [
                "SyncServerKit", "ServerStorage", "ServerStoreSQLite", "SyncModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/SyncServer/Commands",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "SyncServer",
            dependencies: ["SyncServerCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/SyncServer/Main",
            swiftSettings: strict
        ),

        // MARK: benchmarks and the process harness

        // Real syncserver/synccli processes, scratch directories: shared by the tests and the bench.
        .target(
            name: "TestHarness",
            dependencies: ["SyncModel", "SyncStore", "SyncClientKit", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Replays the standard bench workload (scripts/bench/workload.py) through the public Store API.
        .target(
            name: "BenchKit",
            dependencies: ["SyncModel", "SyncWire", "SyncStore", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // `articlesync-bench`: the standard workload on three stores through a real syncserver (BENCHMARKS.md).
        .executableTarget(
            name: "BenchE2E",
            dependencies: ["BenchKit", "TestHarness", "SyncModel", "SyncWire", "SyncStore", "SyncClientKit"],
            swiftSettings: strict
        ),

        // MARK: tests (one suite per module, plus end to end)

        // The server's pieces in a temporary directory, for the route and the client tests.
        .target(
            name: "ServerTestSupport",
            dependencies: [
                "SyncServerKit", "ServerStorage", "ServerStoreSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/ServerTestSupport"
        ),

        .testTarget(name: "SyncModelTests", dependencies: ["SyncModel", "TestHarness"]),
        .testTarget(name: "SyncWireTests", dependencies: ["SyncWire", "SyncModel", "CZlib", "TestHarness", "BenchKit"]),
        .testTarget(
            name: "SyncStoreTests",
            dependencies: ["SyncStore", "SyncModel", "SyncWire", "TestHarness", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "SyncClientTests",
            dependencies: [
                "SyncClientKit", "SyncStore", "SyncModel", "SyncWire", "SyncServerKit", "ServerStorage", "ServerStoreSQLite",
                "TestHarness", "ServerTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SyncServerTests",
            dependencies: [
                "SyncServerKit", "SyncServerCommands", "ServerStorage", "ServerStoreSQLite", "SyncModel", "SyncWire",
                "ServerTestSupport", "TestHarness",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What every server storage backend must do; a new backend adds itself to `Backends.all`.
        .testTarget(
            name: "ServerStoreConformanceTests",
            dependencies: [
                "ServerStorage", "ServerStoreSQLite", "SyncServerKit", "SyncModel", "SyncWire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["SyncModel", "SyncStore", "SyncClientKit", "BenchKit", "TestHarness"]
        ),
    ]
)
