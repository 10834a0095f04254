import Foundation
import GRDB
import SyncCore
import SyncStore

/// The baseline: a plain SQLite table with the check-in columns, filled by raw prepared
/// inserts through the same connection settings and binding code the store uses.
struct PlainTable {
    let pool: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF; PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE plain_checkins (
                        id TEXT PRIMARY KEY, rider_id TEXT, station_id TEXT, purpose TEXT, at INTEGER, device TEXT,
                        lat REAL, lon REAL, minutes INTEGER, battery_pct INTEGER, note TEXT)
                    """)
        }
    }

    /// Inserts the rows in transactions of `batch`.
    func insert(_ rows: ArraySlice<(key: String, values: [FieldValue])>) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let statement = try db.cachedStatement(
                    sql: "INSERT INTO plain_checkins VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                for row in rows {
                    statement.resetBindings()
                    statement.bind(row.key, at: 1)
                    for (index, value) in row.values.enumerated() { statement.bind(value, at: Int32(index + 2)) }
                    try statement.run()
                }
                return .commit
            }
        }
    }
}
