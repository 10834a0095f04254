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

    private final class TableStatements {
        let select: Statement
        let insert: Statement
        let update: Statement
        let delete: Statement

        init(select: Statement, insert: Statement, update: Statement, delete: Statement) {
            self.select = select
            self.insert = insert
            self.update = update
            self.delete = delete
        }
    }

    let db: Database
    /// Prepared statements per collection (few: scanned, not hashed).
    private var tableStatements: [(name: String, statements: TableStatements)] = []
    /// Per collection: whether `_sync_tombstones` may hold one of its records.
    private var tombstonesByCollection: [(name: String, exists: Bool)] = []
    /// Each table's statement for a full chunk of rows (`insertStatement`).
    private var chunkInserts: [(table: String, statement: Statement)] = []
    private var tombstoneSelect: Statement?
    private var tombstoneUpsert: Statement?
    private var tombstoneDelete: Statement?

    init(_ db: Database) {
        self.db = db
    }

    func load(_ table: CollectionTable, key: String) throws -> Stored {
        let select = try statements(for: table).select
        select.resetBindings()
        select.bind(key, at: 1)
        defer { select.resetBindings() }
        if try select.nextRow() {
            let count = Int32(table.schema.fields.count)
            return Stored(state: try table.liveState(select, firstColumn: 0, stateColumn: count), location: .live)
        }
        guard try mayHaveTombstones(table) else { return Stored(state: RecordState(), location: .absent) }
        let tombstone = try prepared(
            &tombstoneSelect, "SELECT state FROM _sync_tombstones WHERE collection = ? AND key = ?")
        tombstone.resetBindings()
        tombstone.bind(table.name, at: 1)
        tombstone.bind(key, at: 2)
        defer { tombstone.resetBindings() }
        if try tombstone.nextRow() {
            let state = try tombstone.withBlob(at: 0) { (bytes) throws(StoreError) in
                try table.codec.decode(bytes, column: nil)
            }
            return Stored(state: state, location: .tombstone)
        }
        return Stored(state: RecordState(), location: .absent)
    }

    /// Inserts a record state known to be new to this collection's tombstones; returns false,
    /// changing nothing, when the key is already live (then load and merge instead).
    ///
    /// The fast path for new records: one insert, no look-up first.
    func insertIfAbsent(_ table: CollectionTable, key: String, state: RecordState, seq: Int64) throws -> Bool {
        precondition(!state.isDeleted, "a tombstone is never inserted blind")
        let insert = try statements(for: table).insert
        try table.runRow(insert, key: key, state: state, seq: seq)
        guard insert.changedRowCount == 1 else { return false }
        if state.hasConflicts { try markConflict(table, key: key, true) }
        return true
    }

    /// Inserts a brand-new record written once by `dot`, building no state; returns false,
    /// changing nothing, when the key is already live.
    func insertNewIfAbsent(
        _ table: CollectionTable, key: String, values: [FieldValue?], dot: Dot, timestamp: HybridTimestamp, seq: Int64
    ) throws -> Bool {
        let insert = try statements(for: table).insert
        try table.runNewRow(insert, key: key, values: values, dot: dot, timestamp: timestamp, seq: seq)
        return insert.changedRowCount == 1
    }

    /// The multi-row insert of `rows` new rows into `table`, its bindings cleared.
    func insertStatement(_ table: CollectionTable, rows: Int) throws -> Statement {
        // Full chunks are most inserts: keep their statement rather than hash its long SQL each time.
        if rows == CollectionTable.insertChunk, let known = chunkInserts.first(where: { $0.table == table.name }) {
            known.statement.resetBindings()
            return known.statement
        }
        let statement = try db.cachedStatement(sql: table.insertManySQL(rows: rows))
        statement.resetBindings()
        if rows == CollectionTable.insertChunk { chunkInserts.append((table.name, statement)) }
        return statement
    }

    /// Runs a bound multi-row insert, then clears its bindings; false when fewer than
    /// `expecting` rows went in (some key was already live).
    func runInsert(_ statement: Statement, expecting: Int) throws -> Bool {
        try statement.run()
        let inserted = statement.changedRowCount == expecting
        statement.resetBindings()
        return inserted
    }

    /// Removes the rows with a sequence number above `seq`: undoes blind inserts made since.
    func deleteRows(_ table: CollectionTable, after seq: Int64) throws {
        try db.execute(sql: table.deleteAfterSQL, arguments: [seq])
    }

    /// Whether a blind insert is safe: no tombstone of this collection can hold the key.
    func mayHaveTombstones(_ table: CollectionTable) throws -> Bool {
        if let known = tombstonesByCollection.first(where: { $0.name == table.name }) { return known.exists }
        let exists =
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM _sync_tombstones WHERE collection = ?)", arguments: [table.name])
            ?? true
        tombstonesByCollection.append((table.name, exists))
        return exists
    }

    /// Saves `state` under a new sequence number where its visible existence says it belongs.
    func save(_ table: CollectionTable, key: String, state: RecordState, seq: Int64, replacing previous: Stored) throws
    {
        let statements = try statements(for: table)
        if state.isDeleted {
            if previous.location == .live {
                statements.delete.resetBindings()
                statements.delete.bind(key, at: 1)
                try statements.delete.run()
            }
            let upsert = try prepared(
                &tombstoneUpsert,
                "INSERT OR REPLACE INTO _sync_tombstones (seq, collection, key, state) VALUES (?, ?, ?, ?)")
            upsert.resetBindings()
            upsert.bind(seq, at: 1)
            upsert.bind(table.name, at: 2)
            upsert.bind(key, at: 3)
            upsert.bind(table.codec.encode(state, live: false), at: 4)
            try upsert.run()
            tombstonesByCollection.removeAll { $0.name == table.name }
            tombstonesByCollection.append((table.name, true))
        } else {
            if previous.location == .tombstone {
                let delete = try prepared(
                    &tombstoneDelete, "DELETE FROM _sync_tombstones WHERE collection = ? AND key = ?")
                delete.resetBindings()
                delete.bind(table.name, at: 1)
                delete.bind(key, at: 2)
                try delete.run()
            }
            let statement = previous.location == .live ? statements.update : statements.insert
            try table.runRow(statement, key: key, state: state, seq: seq)
            guard statement.changedRowCount == 1 else {
                throw StoreError(.storage, "\(table.name) \(key) changed underneath its transaction")
            }
        }
        let hadConflicts = previous.location != .absent && previous.state.hasConflicts
        if state.hasConflicts != hadConflicts { try markConflict(table, key: key, state.hasConflicts) }
    }

    func markConflict(_ table: CollectionTable, key: String, _ conflicted: Bool) throws {
        if conflicted {
            try db.execute(
                sql: "INSERT OR IGNORE INTO _sync_conflicts (collection, key) VALUES (?, ?)",
                arguments: [table.name, key])
        } else {
            try db.execute(
                sql: "DELETE FROM _sync_conflicts WHERE collection = ? AND key = ?", arguments: [table.name, key])
        }
    }

    private func statements(for table: CollectionTable) throws -> TableStatements {
        if let cached = tableStatements.first(where: { $0.name == table.name }) { return cached.statements }
        let statements = TableStatements(
            select: try db.cachedStatement(sql: table.selectSQL),
            insert: try db.cachedStatement(sql: table.insertSQL),
            update: try db.cachedStatement(sql: table.updateSQL),
            delete: try db.cachedStatement(sql: table.deleteSQL))
        tableStatements.append((table.name, statements))
        return statements
    }

    private func prepared(_ slot: inout Statement?, _ sql: String) throws -> Statement {
        if let statement = slot { return statement }
        let statement = try db.cachedStatement(sql: sql)
        slot = statement
        return statement
    }
}
