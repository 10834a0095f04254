import ArgumentParser
import SyncCore
import YongaiDomain

/// Benchmarks of the sync engine, each side by side with a plain-SQLite baseline measured in
/// the same run. Each prints a table and, last, one JSON line.
@main
struct YongaiBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yongai-bench",
        abstract: "Benchmarks of the Yong'ai sync engine against plain SQLite, in the same run.",
        subcommands: [
            DatasetCommand.self, LocalWriteCommand.self, MergeApplyCommand.self, SyncInitialCommand.self,
            SyncNoopCommand.self,
            StationsNearCommand.self, CatchUpCommand.self, ReconnectStormCommand.self,
            CLIMemoryCommand.self,
        ])
}

/// Options every benchmark shares.
struct BenchmarkOptions: ParsableArguments {
    @Option(help: "Records to write.")
    var records = 100_000

    @Option(help: "Records per transaction.")
    var batch = 1_000

    @Option(help: "Rounds per side; the median rate is reported.")
    var rounds = 3

    @Option(help: "Directory for the benchmark's database files (default: a fresh temporary one).")
    var directory: String?

    /// The store schema benchmarked: the domain's check-ins alone.
    var schema: Schema { try! Schema([YongaiCollections.checkins]) }

    func validate() throws {
        guard records > 0, batch > 0, rounds > 0 else {
            throw ValidationError("--records, --batch and --rounds must be positive")
        }
    }
}

struct LocalWriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-write",
        abstract: "Ten-field check-ins written through the store vs raw prepared inserts into a plain table.")

    @OptionGroup var options: BenchmarkOptions

    func run() throws {
        try LocalWriteBenchmark(options: options).run()
    }
}

struct MergeApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-apply",
        abstract: "Remote check-in states merged into a fresh store vs raw prepared inserts of the same rows.")

    @OptionGroup var options: BenchmarkOptions

    func run() throws {
        try MergeApplyBenchmark(options: options).run()
    }
}

struct SyncInitialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-initial",
        abstract: "A fresh client pulls all stations and check-ins from a daemon over loopback vs plain inserts.")

    @Option(help: "Stations on the daemon.")
    var stations = 27_392

    @Option(help: "Check-ins on the daemon.")
    var checkins = 200_000

    @Option(help: "Records per pull batch.")
    var batch = 1_000

    @Flag(help: "Skip the city's new rider and station devices (a daemon holding a year of check-ins).")
    var skipCity = false

    @Option(help: "Rounds per side; the median rate is reported.")
    var rounds = 3

    @Flag(help: "Also time the stages one after another: the daemon's read and encode, decode, merge.")
    var stages = false

    func run() async throws {
        try await SyncInitialBenchmark(
            stations: stations, checkins: checkins, rounds: rounds, batch: batch, city: !skipCity, stages: stages
        ).run()
    }
}

struct SyncNoopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-noop", abstract: "A sync with nothing new: median round trip at a small and a large store.")

    @Option(help: "Store sizes (records), comma-separated.")
    var sizes = "1000,1000000"

    @Option(help: "No-op syncs per size.")
    var repeats = 50

    func run() async throws {
        let parsed = sizes.split(separator: ",").compactMap { Int($0) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes takes positive numbers")
        }
        try await SyncNoopBenchmark(sizes: parsed, repeats: repeats).run()
    }
}

struct StationsNearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stations-near",
        abstract: "The 10 nearest open charging stations among 27,392: box search vs reading them all.")

    @Option(help: "Questions per round.")
    var queries = 2_000

    @Option(help: "Rounds per side; the median rate is reported.")
    var rounds = 3

    func run() throws {
        guard queries > 0, rounds > 0 else { throw ValidationError("--queries and --rounds must be positive") }
        try StationsNearBenchmark(queries: queries, rounds: rounds).run()
    }
}

struct CatchUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "A station back after a day offline pushes its day and pulls everyone's station updates.")

    @Option(help: "Rounds; the median is reported.")
    var rounds = 3

    @Option(help: "Records per push or pull batch.")
    var batch = 1_000

    func run() async throws {
        guard rounds > 0, batch > 0 else { throw ValidationError("--rounds and --batch must be positive") }
        try await CatchUpBenchmark(rounds: rounds, batch: batch).run()
    }
}

struct ReconnectStormCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconnect-storm",
        abstract: "Every rest station's kiosk reconnects at once after an outage (needs the built yongai-syncd).")

    @Option(help: "Kiosks reconnecting at once.")
    var devices = 2_438

    @Option(help: "Check-ins each kiosk made offline.")
    var checkins = 50

    @Option(help: "Status edits made during the outage, for every kiosk to pull.")
    var edits = 20

    @Option(help: "Records per push or pull batch.")
    var batch = 500

    func run() async throws {
        guard devices > 0, checkins >= 0, edits >= 0, edits <= devices, batch > 0 else {
            throw ValidationError("--devices and --batch must be positive; --edits at most --devices")
        }
        try await ReconnectStormBenchmark(devices: devices, checkins: checkins, edits: edits, batch: batch).run()
    }
}

struct CLIMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cli-memory",
        abstract: "Peak memory of the yongai CLI during a full initial sync, small vs large (needs the built binaries)."
    )

    @Option(help: "Records the daemon holds for each run, comma-separated.")
    var sizes = "30000,300000"

    func run() throws {
        let parsed = sizes.split(separator: ",").compactMap { Int($0) }
        guard parsed.count >= 2, parsed.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes takes at least two positive numbers")
        }
        try CLIMemoryBenchmark(sizes: parsed).run()
    }
}
