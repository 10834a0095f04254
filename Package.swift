// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "YongaiSync",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SyncCore", targets: ["SyncCore"]),
        .library(name: "SyncStore", targets: ["SyncStore"]),
        .library(name: "YongaiDomain", targets: ["YongaiDomain"]),
        .executable(name: "yongai-bench", targets: ["yongai-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure model: replica ids, dots, version vectors, HLC, registers, record states, merge. No I/O.
        .target(name: "SyncCore"),
        // The SQLite store: materialized collections, change capture, merge, deltas, conflicts.
        .target(
            name: "SyncStore",
            dependencies: ["SyncCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The domain: Yong'ai collections declared for the engine. The engine never imports it.
        .target(name: "YongaiDomain", dependencies: ["SyncCore"]),
        // A wrapping SQLite VFS that fails the Nth I/O operation, for crash-consistency tests.
        .target(name: "CSQLiteFaultVFS", linkerSettings: [.linkedLibrary("sqlite3")]),
        // Test kit: seeded random generator, random replica histories, fault-injecting VFS control.
        .target(name: "SyncTesting", dependencies: ["SyncCore", "SyncStore", "CSQLiteFaultVFS"]),
        .executableTarget(
            name: "yongai-bench",
            dependencies: [
                "SyncCore", "SyncStore", "YongaiDomain", "SyncTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SyncCoreTests", dependencies: ["SyncCore", "SyncTesting"]),
        .testTarget(
            name: "SyncStoreTests",
            dependencies: [
                "SyncStore", "SyncTesting", "YongaiDomain", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
