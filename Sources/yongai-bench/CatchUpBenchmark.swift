import Foundation
import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import YongaiDomain

/// `catch-up`: the busiest station's kiosk was offline for a day. It recorded its day of
/// check-ins and 20 edits of its own status; meanwhile every charging station and merchant in
/// the city changed its free chargers or meals left. It reconnects: one sync pushes its day
/// and pulls everyone's station updates. Against the same JSON bytes over a loopback socket.
struct CatchUpBenchmark {
    let rounds: Int
    let batch: Int

    func run() async throws {
        let city = CityDataset()
        let stationIndex = city.busiestStation()
        let station = city.stations[stationIndex].key
        let day = Array(city.checkins(.day))
        let ownDay = day.filter { $0.values["station_id"] == .text(station) }
        var updates: [CityDataset.Record] = []
        var random = SplitMix64(seed: 5)
        for candidate in city.stations where candidate.key != station {
            if candidate.kind == "charging" {
                updates.append((candidate.key, ["free_chargers": .integer(Int64(random.next() % 13))]))
            } else if candidate.kind == "merchant" {
                updates.append((candidate.key, ["meals_left": .integer(Int64(random.next() % 81))]))
            }
        }
        var ours: [Double] = []
        var baseline: [Double] = []
        var moved = (pushed: 0, pulled: 0, bytes: 0)
        for round in 0..<rounds {
            let directory = NSTemporaryDirectory() + "yongai-bench-catchup-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let server = try await BenchmarkDaemon.start(directory: directory + "/daemon", batch: batch) { store in
                try store.write { try $0.put("stations", batch: city.stationRecords) }
            }
            let kiosk = try SyncStore(.file(directory + "/kiosk.sqlite"), schema: YongaiCollections.schema)
            let client = server.client(store: kiosk, batch: batch, as: ("station", station))
            try await client.sync()
            let cursorBefore = try server.daemon.store.latestSeq()
            // The day, offline: the kiosk's own writes, and everyone else's on the daemon.
            try kiosk.write { transaction in
                try transaction.put("checkins", batch: ownDay)
                for edit in 0..<20 {
                    try transaction.put(
                        "stations", key: station,
                        ["meals_left": .integer(Int64(80 - edit * 4)), "status": .text(edit == 19 ? "full" : "open")])
                }
            }
            try server.daemon.store.write { transaction in
                try transaction.put("checkins", batch: day.filter { $0.values["station_id"] != .text(station) })
                try transaction.put("stations", batch: updates)
            }
            let pending = try kiosk.changes(after: kiosk.cursor(named: "daemon.push"), limit: 1_000_000).changes
            let pull = try server.wireLines(
                batch: batch, readableBy: Principal(role: "station", subject: station), after: cursorBefore)
            var bytes = pull.bytes
            for start in stride(from: 0, to: pending.count, by: batch) {
                let records = pending[start..<min(start + batch, pending.count)].map(\.record)
                bytes += ClientMessage.push(id: .integer(1), records: records).line()
            }
            let timeOurs = {
                ours.append(
                    try await BenchmarkRun.timeAsync {
                        let report = try await client.sync()
                        precondition(report.received >= updates.count, "the kiosk pulled \(report.received)")
                        moved = (report.sent, report.received, bytes.count)
                    })
            }
            if round % 2 == 0 {
                try await timeOurs()
                baseline.append(try LoopbackCopy.seconds(bytes))
            } else {
                baseline.append(try LoopbackCopy.seconds(bytes))
                try await timeOurs()
            }
            let held = try server.daemon.store.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins WHERE station_id = ?", arguments: [station])
            }
            precondition(held == ownDay.count, "the daemon holds \(held ?? 0) of \(ownDay.count) check-ins")
            await server.stop()
        }
        let oursMillis = BenchmarkRun.median(ours) * 1000
        let baselineMillis = BenchmarkRun.median(baseline) * 1000
        print(
            "catch-up: \(station) back after a day offline: pushes \(moved.pushed) changes (\(ownDay.count) check-ins, 20 status edits), pulls \(moved.pulled) station updates; \(moved.bytes) bytes; \(rounds) rounds (median)"
        )
        print(
            String(
                format: "  one sync over TCP                      %8.1f ms   rounds: %@", oursMillis, Self.list(ours)))
        print(
            String(
                format: "  the same JSON bytes over loopback      %8.1f ms   rounds: %@", baselineMillis,
                Self.list(baseline)))
        print(String(format: "  ratio (ours / baseline time): %.1f", oursMillis / baselineMillis))
        print(
            "{\"bench\":\"catch-up\",\"pushed\":\(moved.pushed),\"pulled\":\(moved.pulled),\"ms\":\(String(format: "%.1f", oursMillis)),\"baseline_ms\":\(String(format: "%.2f", baselineMillis)),\"ratio\":\(String(format: "%.2f", oursMillis / baselineMillis))}"
        )
    }

    static func list(_ seconds: [Double]) -> String {
        seconds.map { String(format: "%.1f", $0 * 1000) }.joined(separator: " ")
    }
}
