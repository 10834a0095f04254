import Foundation
import GRDB
import SyncCore
import SyncStore
import YongaiDomain

/// Stations and check-ins for the sync benchmarks, deterministic by seed.
struct SyncDataset {
    let stations: [(key: String, values: [String: FieldValue])]
    let checkins: CheckinSamples

    init(stations count: Int, checkins checkinCount: Int, seed: UInt64 = 7) {
        var rng = SplitMix64(seed: seed)
        let kinds = ["rest_stop", "charging", "merchant", "community"]
        stations = (0..<count).map { index in
            let kind = kinds[Int(rng.next() % 4)]
            var values: [String: FieldValue] = [
                "kind": .text(kind), "name": .text("Station \(index)"),
                "district": .text("District \(rng.next() % 10)"),
                "address": .text("\(rng.next() % 900) Road \(index % 300)"),
                "lat": .real(29.0 + Double(rng.next() % 1_400_000) / 1_000_000),
                "lon": .real(120.9 + Double(rng.next() % 1_400_000) / 1_000_000), "open_hours": .text("06:00-23:00"),
                "status": .text(["open", "closed", "full"][Int(rng.next() % 3)]),
            ]
            if kind == "charging" { values["free_chargers"] = .integer(Int64(rng.next() % 12)) }
            if kind == "merchant" { values["meals_left"] = .integer(Int64(rng.next() % 80)) }
            return (String(format: "st-%05d", index), values)
        }
        checkins = CheckinSamples(count: checkinCount, seed: seed)
    }

    /// Writes everything into `store` as local writes, in batches.
    func load(into store: SyncStore) throws {
        for start in stride(from: 0, to: stations.count, by: 5_000) {
            try store.write { transaction in
                for row in stations[start..<min(start + 5_000, stations.count)] {
                    try transaction.put("stations", key: row.key, row.values)
                }
            }
        }
        for start in stride(from: 0, to: checkins.rows.count, by: 5_000) {
            try store.write { transaction in
                for row in checkins.rows[start..<min(start + 5_000, checkins.rows.count)] {
                    try transaction.put("checkins", key: row.key, CheckinSamples.dictionary(row.values))
                }
            }
        }
    }

    /// The baseline: the same rows into plain tables with raw prepared inserts.
    func insertPlain(at path: String) throws {
        let table = try PlainTable(path: path)
        try table.pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE plain_stations (id TEXT PRIMARY KEY, kind TEXT, name TEXT, district TEXT, address TEXT,
                        lat REAL, lon REAL, open_hours TEXT, status TEXT, free_chargers INTEGER, meals_left INTEGER)
                    """)
        }
        let fields = YongaiCollections.stations.fields.map(\.name)
        for start in stride(from: 0, to: stations.count, by: 1_000) {
            try table.pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    let statement = try db.cachedStatement(
                        sql: "INSERT INTO plain_stations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                    for row in stations[start..<min(start + 1_000, stations.count)] {
                        statement.resetBindings()
                        statement.bind(row.key, at: 1)
                        for (index, name) in fields.enumerated() {
                            statement.bind(row.values[name] ?? .null, at: Int32(index + 2))
                        }
                        try statement.run()
                    }
                    return .commit
                }
            }
        }
        for start in stride(from: 0, to: checkins.rows.count, by: 1_000) {
            try table.insert(checkins.rows[start..<min(start + 1_000, checkins.rows.count)])
        }
    }
}
