import Foundation
import GRDB
import SyncCore
import SyncStore
import YongaiDomain

/// Stations and check-ins of the city for the sync benchmarks.
struct SyncDataset {
    let stations: [(key: String, values: [String: FieldValue])]
    let checkins: CheckinSamples

    init(stations count: Int, checkins checkinCount: Int, dataset: CityDataset = CityDataset()) {
        stations = Array(dataset.stationRecords.prefix(count))
        checkins = CheckinSamples(count: checkinCount, dataset: dataset)
    }

    /// Writes everything into `store` as local writes, in batches.
    func load(into store: SyncStore) throws {
        for start in stride(from: 0, to: stations.count, by: 5_000) {
            try store.write { transaction in
                try transaction.put("stations", batch: stations[start..<min(start + 5_000, stations.count)])
            }
        }
        for start in stride(from: 0, to: checkins.rows.count, by: 5_000) {
            try store.write { transaction in
                try transaction.put(
                    "checkins",
                    batch: checkins.rows[start..<min(start + 5_000, checkins.rows.count)].map {
                        (key: $0.key, values: CheckinSamples.dictionary($0.values))
                    })
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
