import GRDB
import SyncCore

/// Loads and saves record states inside one transaction, keeping each collection table, the
/// tombstones and the conflict index in step. Statements are prepared once per transaction.
final class RecordStorage {
    /// Where a record's state currently lives.
    enum Location {
        case absent
        case live
        case tombstone
    }

    /// A record as stored: its state and where it lives.
    struct Stored {
        var state: RecordState
        var location: Location
    }

    private struct TableStatements {
        let select: Statement
        let upsert: Statement
        let delete: Statement
    }

    let db: Database
    private var tableStatements: [String: TableStatements] = [:]
    private var tombstoneSelect: Statement?
    private var tombstoneUpsert: Statement?
    private var tombstoneDelete: Statement?

    init(_ db: Database) {
        self.db = db
    }

    func load(_ table: CollectionTable, key: String) throws -> Stored {
        let statements = try statements(for: table)
        statements.select.resetBindings()
        statements.select.bind(key, at: 1)
        defer { statements.select.resetBindings() }
        if try statements.select.nextRow() {
            return Stored(state: try statements.select.recordState(at: 0), location: .live)
        }
        let tombstone = try prepared(&tombstoneSelect, "SELECT state FROM _sync_tombstones WHERE collection = ? AND key = ?")
        tombstone.resetBindings()
        tombstone.bind(table.name, at: 1)
        tombstone.bind(key, at: 2)
        defer { tombstone.resetBindings() }
        if try tombstone.nextRow() {
            return Stored(state: try tombstone.recordState(at: 0), location: .tombstone)
        }
        return Stored(state: RecordState(), location: .absent)
    }

    /// Saves `state` under a new sequence number where its visible existence says it belongs.
    func save(_ table: CollectionTable, key: String, state: RecordState, seq: Int64, replacing previous: Stored) throws {
        let encoded = RecordStateCodec.encode(state)
        if state.isDeleted {
            if previous.location == .live {
                let delete = try statements(for: table).delete
                delete.resetBindings()
                delete.bind(key, at: 1)
                try delete.run()
            }
            let upsert = try prepared(
                &tombstoneUpsert, "INSERT OR REPLACE INTO _sync_tombstones (seq, collection, key, state) VALUES (?, ?, ?, ?)")
            upsert.resetBindings()
            upsert.bind(seq, at: 1)
            upsert.bind(table.name, at: 2)
            upsert.bind(key, at: 3)
            upsert.bind(encoded, at: 4)
            try upsert.run()
        } else {
            if previous.location == .tombstone {
                let delete = try prepared(&tombstoneDelete, "DELETE FROM _sync_tombstones WHERE collection = ? AND key = ?")
                delete.resetBindings()
                delete.bind(table.name, at: 1)
                delete.bind(key, at: 2)
                try delete.run()
            }
            let upsert = try statements(for: table).upsert
            upsert.resetBindings()
            upsert.bind(key, at: 1)
            var index: Int32 = 2
            for field in table.schema.fields {
                upsert.bind(state.visibleValue(of: field.name) ?? .null, at: index)
                index += 1
            }
            upsert.bind(seq, at: index)
            upsert.bind(encoded, at: index + 1)
            try upsert.run()
        }
        let hadConflicts = previous.location != .absent && previous.state.hasConflicts
        let hasConflicts = state.hasConflicts
        if hasConflicts && !hadConflicts {
            try db.execute(
                sql: "INSERT OR IGNORE INTO _sync_conflicts (collection, key) VALUES (?, ?)", arguments: [table.name, key])
        } else if hadConflicts && !hasConflicts {
            try db.execute(sql: "DELETE FROM _sync_conflicts WHERE collection = ? AND key = ?", arguments: [table.name, key])
        }
    }

    private func statements(for table: CollectionTable) throws -> TableStatements {
        if let statements = tableStatements[table.name] { return statements }
        let statements = TableStatements(
            select: try db.cachedStatement(sql: table.selectStateSQL),
            upsert: try db.cachedStatement(sql: table.upsertSQL),
            delete: try db.cachedStatement(sql: table.deleteSQL))
        tableStatements[table.name] = statements
        return statements
    }

    private func prepared(_ slot: inout Statement?, _ sql: String) throws -> Statement {
        if let statement = slot { return statement }
        let statement = try db.cachedStatement(sql: sql)
        slot = statement
        return statement
    }
}
