// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "YongaiSync",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SyncCore", targets: ["SyncCore"]),
        .library(name: "SyncStore", targets: ["SyncStore"]),
        .library(name: "SyncProtocol", targets: ["SyncProtocol"]),
        .library(name: "SyncSession", targets: ["SyncSession"]),
        .library(name: "YongaiDomain", targets: ["YongaiDomain"]),
        // The test kit, for the fuzzers in Fuzz/.
        .library(name: "SyncTesting", targets: ["SyncTesting"]),
        .executable(name: "yongai-syncd", targets: ["yongai-syncd"]),
        .executable(name: "yongai", targets: ["yongai"]),
        .executable(name: "yongai-station", targets: ["yongai-station"]),
        .executable(name: "yongai-sim", targets: ["yongai-sim"]),
        .executable(name: "yongai-bench", targets: ["yongai-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Pure model: replica ids, dots, version vectors, HLC, registers, record states, merge. No I/O.
        .target(name: "SyncCore"),
        // The SQLite store: materialized collections, change capture, merge, deltas, conflicts.
        .target(
            name: "SyncStore",
            dependencies: ["SyncCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The wire protocol: line-delimited JSON messages, their codec, limits and error codes.
        .target(name: "SyncProtocol", dependencies: ["SyncCore"]),
        // The sync conversation as state machines without network I/O, for client, daemon and simulator.
        .target(name: "SyncSession", dependencies: ["SyncCore", "SyncProtocol", "SyncStore"]),
        // NIO glue shared by daemon and client: line framing on TCP channels.
        .target(
            name: "SyncTransport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ]
        ),
        // The daemon library: TCP listener, tokens, live feeds, graceful shutdown.
        .target(
            name: "SyncServer",
            dependencies: [
                "SyncCore", "SyncProtocol", "SyncStore", "SyncSession", "SyncTransport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The client library: connect, sync, stay subscribed, reconnect with backoff.
        .target(
            name: "SyncClient",
            dependencies: [
                "SyncCore", "SyncProtocol", "SyncStore", "SyncSession", "SyncTransport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The deterministic conflict/fault simulation: sessions and stores over a simulated network.
        .target(
            name: "SyncSimulation",
            dependencies: [
                "SyncCore", "SyncProtocol", "SyncStore", "SyncSession", "YongaiDomain",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The domain: Yong'ai collections declared for the engine. The engine never imports it.
        .target(name: "YongaiDomain", dependencies: ["SyncCore", "SyncStore", "SyncSession"]),
        // A wrapping SQLite VFS that fails the Nth I/O operation, for crash-consistency tests.
        .target(name: "CSQLiteFaultVFS", linkerSettings: [.linkedLibrary("sqlite3")]),
        // Test kit: seeded random generator, random replica histories, fault-injecting VFS control.
        .target(
            name: "SyncTesting",
            dependencies: ["SyncCore", "SyncStore", "SyncProtocol", "SyncSession", "CSQLiteFaultVFS"]
        ),
        .executableTarget(
            name: "yongai-syncd",
            dependencies: [
                "SyncCore", "SyncStore", "SyncServer", "YongaiDomain",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The device side shared by the rider CLI and the station agent: home, settings, queries, output.
        .target(
            name: "YongaiApp",
            dependencies: [
                "SyncCore", "SyncStore", "SyncProtocol", "SyncSession", "SyncClient", "YongaiDomain",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "yongai",
            dependencies: [
                "SyncCore", "SyncStore", "SyncSession", "SyncClient", "SyncProtocol", "YongaiApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "yongai-station",
            dependencies: [
                "SyncCore", "SyncStore", "SyncSession", "SyncClient", "YongaiApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "yongai-sim",
            dependencies: ["SyncSimulation", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "yongai-bench",
            dependencies: [
                "SyncCore", "SyncStore", "YongaiDomain", "YongaiApp", "SyncProtocol", "SyncServer", "SyncClient",
                "SyncSession", "SyncTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore", "SyncTesting"]),
        .testTarget(name: "SyncProtocolTests", dependencies: ["SyncProtocol", "SyncTesting"]),
        .testTarget(
            name: "SyncTransportTests",
            dependencies: [
                "SyncTransport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SyncServerTests",
            dependencies: [
                "SyncServer", "SyncClient", "SyncSession", "SyncStore", "SyncProtocol", "SyncTesting", "YongaiDomain",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "YongaiCLITests",
            dependencies: [
                "SyncTesting", "SyncProtocol", "SyncStore", "YongaiDomain",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "YongaiDomainTests",
            dependencies: ["YongaiDomain", "YongaiApp", "SyncStore", "SyncCore", "SyncSession"]
        ),
        .testTarget(name: "SyncSimulationTests", dependencies: ["SyncSimulation", "SyncSession", "SyncStore"]),
        .testTarget(
            name: "SyncSessionTests",
            dependencies: ["SyncSession", "SyncStore", "SyncProtocol", "SyncTesting", "YongaiDomain"]
        ),
        .testTarget(
            name: "SyncStoreTests",
            dependencies: [
                "SyncStore", "SyncTesting", "YongaiDomain", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
