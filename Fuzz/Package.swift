// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets, kept out of the root package so that its build and tests never need
// `-sanitize=fuzzer`. Build with `tools/fuzz` (see the README's "Fuzzing").
let package = Package(
    name: "YongaiSyncFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "YongaiSync", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Calls libFuzzer's driver from the `<module>_main` SwiftPM makes each executable's entry.
        .target(name: "FuzzDriver"),
        // The line decoders: client messages as the daemon reads them, daemon messages as clients do.
        .executableTarget(
            name: "fuzz-decode",
            dependencies: [
                "FuzzDriver",
                .product(name: "SyncCore", package: "YongaiSync"),
                .product(name: "SyncProtocol", package: "YongaiSync"),
            ]
        ),
        // A daemon session over a real store, fed message sequences a grammar builds from the input.
        .executableTarget(
            name: "fuzz-session",
            dependencies: [
                "FuzzDriver",
                .product(name: "SyncCore", package: "YongaiSync"),
                .product(name: "SyncProtocol", package: "YongaiSync"),
                .product(name: "SyncStore", package: "YongaiSync"),
                .product(name: "SyncSession", package: "YongaiSync"),
                .product(name: "SyncTesting", package: "YongaiSync"),
                .product(name: "YongaiDomain", package: "YongaiSync"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
