import ArgumentParser
import SyncCore
import YongaiDomain

/// Benchmarks of the sync engine, each side by side with a plain-SQLite baseline measured in
/// the same run. Each prints a table and, last, one JSON line.
@main
struct YongaiBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yongai-bench",
        abstract: "Benchmarks of the Yong'ai sync engine against plain SQLite, in the same run.",
        subcommands: [LocalWriteCommand.self, MergeApplyCommand.self])
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

    @Flag(help: "Give both sides the check-in collection's secondary indexes (rider_id; station_id, at).")
    var indexes = false

    /// The check-in collection as benchmarked: the domain's, with or without its indexes.
    var checkins: CollectionSchema {
        let domain = YongaiCollections.checkins
        return try! CollectionSchema(
            name: domain.name, fields: domain.fields, policy: domain.policy, indexes: indexes ? domain.indexes : [])
    }

    var schema: Schema { try! Schema([checkins]) }

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
