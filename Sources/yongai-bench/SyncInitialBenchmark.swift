import Foundation
import GRDB
import Logging
import ServiceLifecycle
import SyncClient
import SyncCore
import SyncProtocol
import SyncServer
import SyncSession
import SyncStore
import YongaiDomain

/// `sync-initial`: a fresh client pulls every station and check-in from a daemon over
/// loopback, vs inserting the same rows into plain SQLite tables in the same run.
struct SyncInitialBenchmark {
    let stations: Int
    let checkins: Int
    let rounds: Int
    let batch: Int
    /// Also run the city's new rider and new station device.
    let city: Bool
    /// Also time each stage of the sync alone.
    let stages: Bool

    func run() async throws {
        let directory = NSTemporaryDirectory() + "yongai-bench-sync-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let total = stations + checkins
        let rows = SyncDataset(stations: stations, checkins: checkins)
        let server = try await BenchmarkDaemon.start(directory: directory + "/daemon", batch: batch) { store in
            try rows.load(into: store)
        }
        var ours: [Double] = []
        var baseline: [Double] = []
        for round in 0..<rounds {
            for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                let path = directory + "/round-\(round)-\(side)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: path) }
                if side == 0 {
                    let store = try SyncStore(.file(path + "/client.sqlite"), schema: YongaiCollections.schema)
                    let client = server.client(store: store, batch: batch)
                    ours.append(try await BenchmarkRun.timeAsync { _ = try await client.sync() })
                    let received = try store.read { db in
                        try Int.fetchOne(
                            db, sql: "SELECT (SELECT COUNT(*) FROM stations) + (SELECT COUNT(*) FROM checkins)")
                    }
                    precondition(received == total, "the client holds \(received ?? 0) of \(total) records")
                } else {
                    baseline.append(try BenchmarkRun.time { try rows.insertPlain(at: path + "/plain.sqlite") })
                }
            }
        }
        let bytes = try server.wireBytes(batch: batch)
        let stageTimes = stages ? try timeStages(server, directory: directory) : nil
        await server.stop()
        let oursRate = Double(total) / BenchmarkRun.median(ours)
        let baselineRate = Double(total) / BenchmarkRun.median(baseline)
        print(
            "sync-initial: \(stations) stations + \(checkins) check-ins pulled over loopback, batches of \(batch), \(rounds) rounds per side (median)"
        )
        print(BenchmarkRun.row("sync over TCP into a fresh client store", ours, oursRate))
        print(BenchmarkRun.row("raw prepared inserts (plain tables)", baseline, baselineRate))
        print(
            String(
                format:
                    "bytes per record on the wire: %.1f   ratio (baseline rate / ours): %.2f   targets: ours >= 50,000 rec/s, ratio <= 2",
                Double(bytes) / Double(total), baselineRate / oursRate))
        if let stageTimes {
            print(
                String(
                    format:
                        "stages one after another (median s): daemon read and encode %.3f, client decode %.3f, merge %.3f; sum %.3f",
                    stageTimes.read, stageTimes.decode, stageTimes.merge,
                    stageTimes.read + stageTimes.decode + stageTimes.merge))
        }
        var json =
            "{\"bench\":\"sync-initial\",\"records\":\(total),\"ours_per_s\":\(Int(oursRate)),\"baseline_per_s\":\(Int(baselineRate)),\"bytes_per_record\":\(String(format: "%.1f", Double(bytes) / Double(total))),\"ratio\":\(String(format: "%.3f", baselineRate / oursRate))"
        if city {
            for part in try await cityParts(directory: directory + "/city") {
                json +=
                    ",\"\(part.name)_records\":\(part.records),\"\(part.name)_per_s\":\(Int(part.ours)),\"\(part.name)_loopback_per_s\":\(Int(part.baseline)),\"\(part.name)_ratio\":\(String(format: "%.3f", part.baseline / part.ours))"
            }
        }
        print(json + "}")
    }

    /// The sync's stages timed one at a time on the same data: the daemon reading and
    /// encoding every `changes` line, the client decoding them, and merging them into a fresh
    /// store batch by batch (each with its cursor), to see which one bounds the pipeline.
    func timeStages(_ server: BenchmarkDaemon, directory: String) throws -> (
        read: Double, decode: Double, merge: Double
    ) {
        var reads: [Double] = []
        var decodes: [Double] = []
        var merges: [Double] = []
        for round in 0..<rounds {
            var wire: (bytes: [UInt8], records: Int) = ([], 0)
            reads.append(try BenchmarkRun.time { wire = try server.wireLines(batch: batch, readableBy: nil) })
            var batches: [[KeyedRecord]] = []
            decodes.append(
                try BenchmarkRun.time {
                    var start = 0
                    while let end = wire.bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
                        let message = try wire.bytes[start..<end].withUnsafeBytes { buffer in
                            try Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }.get()
                        }
                        if case .changes(_, let records, _, _, _) = message { batches.append(records) }
                        start = end + 1
                    }
                })
            let store = try SyncStore(.file(directory + "/stages-\(round).sqlite"), schema: YongaiCollections.schema)
            merges.append(
                try BenchmarkRun.time {
                    for (index, records) in batches.enumerated() {
                        try store.merge(records, cursor: (name: "stages", value: Int64(index)))
                    }
                })
            try store.close()
        }
        return (BenchmarkRun.median(reads), BenchmarkRun.median(decodes), BenchmarkRun.median(merges))
    }

    /// The city's new devices: a rider pulling every station (and its own check-ins) and the
    /// busiest station's new kiosk pulling every station and its year of check-ins, from a
    /// daemon holding the whole city and a year; each against the same JSON bytes copied over
    /// a plain loopback socket.
    func cityParts(directory: String) async throws -> [(name: String, records: Int, ours: Double, baseline: Double)] {
        let city = CityDataset()
        let year = city.checkins(.year)
        print("")
        print("loading the city: \(city.stations.count) stations and a year's \(year.count) check-ins into the daemon…")
        let server = try await BenchmarkDaemon.start(directory: directory + "/daemon", batch: batch) { store in
            try store.write { try $0.put("stations", batch: city.stationRecords) }
            var chunk: [CityDataset.Record] = []
            for checkin in year {
                chunk.append(checkin)
                if chunk.count == 10_000 {
                    try store.write { try $0.put("checkins", batch: chunk) }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            try store.write { try $0.put("checkins", batch: chunk) }
        }
        let busiest = city.stations[city.busiestStation()].key
        let devices = [
            (
                "rider", Principal(role: "rider", subject: city.riders[0]),
                "a new rider device (r-00000): stations + own check-ins"
            ),
            (
                "station", Principal(role: "station", subject: busiest),
                "the busiest station's new kiosk (\(busiest)): stations + its year"
            ),
        ]
        var results: [(name: String, records: Int, ours: Double, baseline: Double)] = []
        for (name, principal, label) in devices {
            let wire = try server.wireLines(batch: batch, readableBy: principal)
            var ours: [Double] = []
            var baseline: [Double] = []
            for round in 0..<rounds {
                for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                    if side == 1 {
                        baseline.append(try LoopbackCopy.seconds(wire.bytes))
                        continue
                    }
                    let path = directory + "/\(name)-\(round)"
                    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                    defer { try? FileManager.default.removeItem(atPath: path) }
                    let store = try SyncStore(.file(path + "/device.sqlite"), schema: YongaiCollections.schema)
                    let client = server.client(store: store, batch: batch, as: (principal.role, principal.subject))
                    ours.append(try await BenchmarkRun.timeAsync { _ = try await client.sync() })
                    let received = try store.read { db in
                        try Int.fetchOne(
                            db, sql: "SELECT (SELECT COUNT(*) FROM stations) + (SELECT COUNT(*) FROM checkins)")
                    }
                    precondition(received == wire.records, "\(name) holds \(received ?? 0) of \(wire.records) records")
                    try store.close()
                }
            }
            let oursRate = Double(wire.records) / BenchmarkRun.median(ours)
            let baselineRate = Double(wire.records) / BenchmarkRun.median(baseline)
            print(
                "\(label): \(wire.records) records, \(String(format: "%.1f", Double(wire.bytes.count) / Double(wire.records))) bytes each"
            )
            print(BenchmarkRun.row("  sync over TCP into a fresh device store", ours, oursRate))
            print(BenchmarkRun.row("  the same JSON bytes over a loopback socket", baseline, baselineRate))
            print(String(format: "  ratio (baseline rate / ours): %.1f", baselineRate / oursRate))
            results.append((name, wire.records, oursRate, baselineRate))
        }
        await server.stop()
        return results
    }
}

/// `sync-noop`: a sync with nothing new, at a small and a large store.
struct SyncNoopBenchmark {
    let sizes: [Int]
    let repeats: Int

    func run() async throws {
        var medians: [(Int, Double)] = []
        for size in sizes {
            let directory = NSTemporaryDirectory() + "yongai-bench-noop-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let stations = min(size, 27_392)
            let rows = SyncDataset(stations: stations, checkins: size - stations)
            let server = try await BenchmarkDaemon.start(directory: directory + "/daemon", batch: 1_000) { store in
                try rows.load(into: store)
            }
            let store = try SyncStore(.file(directory + "/client.sqlite"), schema: YongaiCollections.schema)
            // A rider: the many clients whose scope (stations, own check-ins) is a sliver of the store.
            let client = server.client(store: store, batch: 1_000, as: ("rider", "r-00001"))
            try await client.sync()
            var times: [Double] = []
            for _ in 0..<repeats {
                times.append(
                    try await BenchmarkRun.timeAsync {
                        let report = try await client.sync()
                        precondition(report.sent == 0 && report.received == 0, "a no-op sync moved records")
                    })
            }
            await server.stop()
            let median = BenchmarkRun.median(times) * 1000
            medians.append((size, median))
            let sorted = times.sorted()
            print(
                String(
                    format:
                        "no-op sync of a rider at %7d stored records: median %.2f ms, p90 %.2f ms (%d syncs: connect, hello, empty push, empty pull)",
                    size, median, sorted[sorted.count * 9 / 10] * 1000, repeats))
        }
        let growth = medians.last!.1 / medians.first!.1
        print(
            String(
                format: "growth from the smallest to the largest store: %.2fx   target: under 5 ms at any size", growth)
        )
        let sizesJSON = medians.map { "\"ms_at_\($0.0)\":\(String(format: "%.3f", $0.1))" }.joined(separator: ",")
        print(
            "{\"bench\":\"sync-noop\",\(sizesJSON),\"ms\":\(String(format: "%.3f", medians.last!.1)),\"ratio\":\(String(format: "%.3f", growth))}"
        )
    }
}

/// An in-process daemon on a free loopback port, seeded once.
struct BenchmarkDaemon {
    let daemon: SyncDaemon
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int
    let token: String

    static func start(directory: String, batch: Int, seed: (SyncStore) throws -> Void) async throws -> BenchmarkDaemon {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let seedStore = try SyncStore(.file(directory + "/store.sqlite"), schema: YongaiCollections.schema)
        try seed(seedStore)
        try seedStore.close()
        var logger = Logger(label: "bench.daemon")
        logger.logLevel = .warning
        let daemon = try SyncDaemon(
            configuration: .init(dataDirectory: directory, port: 0, maximumBatch: batch),
            schema: YongaiCollections.schema,
            policy: YongaiAccessPolicy(), logger: logger)
        let group = ServiceGroup(services: [daemon], logger: logger)
        let task = Task { try await group.run() }
        let port = await daemon.listeningAddress().port ?? 0
        let token = daemon.authority.issue(role: "admin", subject: "bench", issuedAt: 0, expiresAt: .max)
        return BenchmarkDaemon(daemon: daemon, group: group, task: task, port: port, token: token)
    }

    /// A client of the daemon, by default an admin; `as` names another role and subject.
    func client(store: SyncStore, batch: Int, as principal: (role: String, subject: String)? = nil) -> SyncClient {
        var logger = Logger(label: "bench.client")
        logger.logLevel = .warning
        let token =
            principal.map { daemon.authority.issue(role: $0.role, subject: $0.subject, issuedAt: 0, expiresAt: .max) }
            ?? token
        return SyncClient(
            store: store, configuration: .init(host: "127.0.0.1", port: port, token: token, batchSize: batch),
            logger: logger)
    }

    /// The bytes of every `changes` line a full pull sends, encoded as the daemon encodes them.
    func wireBytes(batch: Int) throws -> Int {
        try wireLines(batch: batch, readableBy: nil).bytes.count
    }

    /// The `changes` lines a full pull by `principal` (everything when nil) receives, encoded
    /// as the daemon encodes them, and how many records they carry.
    func wireLines(batch: Int, readableBy principal: Principal?, after start: Int64 = 0) throws -> (
        bytes: [UInt8], records: Int
    ) {
        // Read and encoded the way the daemon answers pulls (its scoped reader).
        let reader = ScopedReader(
            store: daemon.store, principal: principal ?? Principal(role: "admin", subject: "bench"),
            policy: YongaiAccessPolicy())
        var cursor = start
        var bytes: [UInt8] = []
        var records = 0
        while true {
            let (page, _, line) = try reader.changes(
                id: .integer(1), after: cursor, limit: batch, maximumLine: ProtocolLimits.defaultMaximumLine)
            bytes += line
            records += page.records.count
            cursor = page.cursor
            if !page.more { return (bytes, records) }
        }
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
