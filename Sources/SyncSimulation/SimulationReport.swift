import SyncCore
import SyncProtocol
import SyncStore

/// What a run did and whether the system held up, with a digest of the final state that is
/// the same, byte for byte, for the same seed and options.
public struct SimulationReport: Sendable {
    /// Counts of what happened.
    public struct Counts: Sendable {
        public var writes = 0
        public var syncsStarted = 0
        public var syncsCompleted = 0
        public var syncsFailed = 0
        public var messages = 0
        public var lost = 0
        public var duplicated = 0
        public var crashes = 0
        public var partitions = 0
        public var clockJumps = 0
        public var restores = 0
        public var clones = 0
        /// Devices that moved their writes to a new replica id after a copy diverged.
        public var renamings = 0
        public var refused = 0
        public var daemonCommits = 0
    }

    public let seed: UInt64
    public let options: String
    public let counts: Counts
    public let records: Int
    public let conflicts: Int
    /// Sync rounds after healing until nothing moved; nil when it never quiesced.
    public let rounds: Int?
    public let violations: [String]
    public let digest: String

    public var ok: Bool { violations.isEmpty }

    init(simulation: Simulation, rounds: Int?, violations: [String]) throws {
        seed = simulation.options.seed
        let options = simulation.options
        self.options = "devices=\(options.devices) ops=\(options.operations) faults=\(options.faults)"
        counts = simulation.stats
        let changes = try simulation.daemonStore.changes(after: 0, limit: Int.max / 2).changes
        records = changes.count
        conflicts = try simulation.daemonStore.conflicts().count
        self.rounds = rounds
        self.violations = violations
        var hash = FNV1a()
        for change in changes {
            var writer = JSONWriter()
            KeyedRecord(collection: change.collection, key: change.key, state: change.state).write(to: &writer)
            hash.add(writer.bytes)
        }
        for device in simulation.devices {
            hash.add(Array(device.name.utf8))
            for change in try device.store.changes(after: 0, limit: Int.max / 2).changes {
                var writer = JSONWriter()
                KeyedRecord(collection: change.collection, key: change.key, state: change.state).write(to: &writer)
                hash.add(writer.bytes)
            }
        }
        digest = hash.hex
    }

    /// A run the harness itself could not finish: a failure like any other.
    public init(seed: UInt64, options: SimulationOptions, harnessError: any Error) {
        self.seed = seed
        self.options = "devices=\(options.devices) ops=\(options.operations) faults=\(options.faults)"
        counts = Counts()
        records = 0
        conflicts = 0
        rounds = nil
        violations = ["harness: the run stopped with \(harnessError)"]
        digest = "0000000000000000"
    }

    /// A few readable lines.
    public var summary: String {
        let verdict = ok ? "ok" : "FAILED (\(violations.count) violations)"
        var lines = [
            "seed \(seed): \(verdict) — \(options)",
            "  \(counts.writes) writes, \(counts.syncsStarted) syncs (\(counts.syncsCompleted) completed, \(counts.syncsFailed) cut), \(counts.messages) messages (\(counts.lost) lost, \(counts.duplicated) duplicated)",
            "  \(counts.crashes) crashes, \(counts.partitions) partitions, \(counts.clockJumps) clock jumps, \(counts.restores) restores, \(counts.clones) clones, \(counts.renamings) renamings, \(counts.refused) refused records",
            "  final: \(records) records, \(conflicts) open conflicts, quiesced in \(rounds.map(String.init) ?? "never") rounds, digest \(digest)",
        ]
        lines += violations.prefix(10).map { "  ✗ \($0)" }
        if violations.count > 10 { lines.append("  … \(violations.count - 10) more") }
        return lines.joined(separator: "\n")
    }

    /// The last line: one JSON object.
    public var json: String {
        let fields: KeyValuePairs<String, JSONValue> = [
            "seed": .integer(Int64(bitPattern: seed)), "ok": .bool(ok), "digest": .string(digest),
            "writes": .integer(Int64(counts.writes)), "syncs": .integer(Int64(counts.syncsCompleted)),
            "messages": .integer(Int64(counts.messages)), "lost": .integer(Int64(counts.lost)),
            "duplicated": .integer(Int64(counts.duplicated)), "crashes": .integer(Int64(counts.crashes)),
            "partitions": .integer(Int64(counts.partitions)), "restores": .integer(Int64(counts.restores)),
            "clones": .integer(Int64(counts.clones)), "renamings": .integer(Int64(counts.renamings)),
            "refused": .integer(Int64(counts.refused)),
            "records": .integer(Int64(records)), "conflicts": .integer(Int64(conflicts)),
            "rounds": rounds.map { .integer(Int64($0)) } ?? .null,
            "violations": .array(violations.map { .string($0) }),
        ]
        return String(decoding: JSONWriter.encode(.object(fields)), as: UTF8.self)
    }
}

/// FNV-1a, 64-bit: a small, stable hash for digests (the same on every platform and run).
struct FNV1a {
    private var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x100_0000_01b3
        }
        value ^= 0xFF
        value &*= 0x100_0000_01b3
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
