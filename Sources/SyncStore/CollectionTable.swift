import GRDB
import SyncCore

/// One collection's materialized table: its SQL, its state codec and its column binding.
///
/// The table holds one row per live record with its visible values in real, typed columns, so
/// `sqlite3` and plain SQL read it directly. Two more columns carry the sync metadata:
/// `_sync_seq`, the change sequence number (the row id, so a delta scan is a range scan), and
/// `_sync_state`, the rest of the record's replicated state (see `RecordStateCodec`).
/// Deleted records move to `_sync_tombstones`, so the table lists exactly what is visible.
///
/// A class: every merge and write looks its table up per record, and a reference is one
/// retain where a struct of arrays is many.
final class CollectionTable: Sendable {
    let schema: CollectionSchema
    let codec: RecordStateCodec
    /// Declared fields sorted by name (byte order), with their column positions.
    let columnsByName: [(name: String, column: Int)]

    /// `insertManySQL` for a full chunk, built once.
    let insertChunkSQL: String

    init(schema: CollectionSchema) {
        self.schema = schema
        codec = RecordStateCodec(schema: schema)
        columnsByName = schema.fields.enumerated().map { ($1.name, $0) }
            .sorted { RecordState.namePrecedes($0.name, $1.name) }
        insertChunkSQL = Self.insertManySQL(schema, rows: Self.insertChunk)
    }

    /// Rows per multi-row insert: enough to amortize a statement, few enough to bind cheaply.
    static let insertChunk = 16

    var name: String { schema.name }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private var quotedTable: String { Self.quoted(name) }
    private var quotedKey: String { Self.quoted(schema.keyField) }
    private var quotedFields: [String] { schema.fields.map { Self.quoted($0.name) } }

    var createTableSQL: String {
        let key = "\(quotedKey) TEXT NOT NULL UNIQUE"
        let fields = schema.fields.map { "\(Self.quoted($0.name)) \($0.type.sqlType)" }
        let columns = [key] + fields + ["\"_sync_seq\" INTEGER PRIMARY KEY", "\"_sync_state\" BLOB NOT NULL"]
        return "CREATE TABLE \(quotedTable) (\(columns.joined(separator: ", ")))"
    }

    func createIndexSQL(_ columns: [String]) -> String {
        let indexName = "\(name)_by_\(columns.joined(separator: "_"))"
        return
            "CREATE INDEX IF NOT EXISTS \(Self.quoted(indexName)) ON \(quotedTable)(\(columns.map(Self.quoted).joined(separator: ", ")))"
    }

    func addColumnSQL(_ field: FieldSchema) -> String {
        "ALTER TABLE \(quotedTable) ADD COLUMN \(Self.quoted(field.name)) \(field.type.sqlType)"
    }

    /// Declared columns (0..<n), then the state (n). Binds the key at 1.
    var selectSQL: String {
        "SELECT \((quotedFields + ["\"_sync_state\""]).joined(separator: ", ")) FROM \(quotedTable) WHERE \(quotedKey) = ?"
    }

    /// Binds as `runRow`. Inserts nothing when the key exists (check the change count).
    var insertSQL: String {
        let columns = quotedFields + ["\"_sync_seq\"", "\"_sync_state\"", quotedKey]
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        return
            "INSERT INTO \(quotedTable) (\(columns.joined(separator: ", "))) VALUES (\(placeholders)) ON CONFLICT(\(quotedKey)) DO NOTHING"
    }

    /// `rows` new rows in one statement, each bound as `runRow` at an offset of
    /// `rowParameterCount` per row. Skips a row whose key exists or that breaks a constraint
    /// (check the change count).
    func insertManySQL(rows: Int) -> String {
        rows == Self.insertChunk ? insertChunkSQL : Self.insertManySQL(schema, rows: rows)
    }

    private static func insertManySQL(_ schema: CollectionSchema, rows: Int) -> String {
        let columns =
            schema.fields.map { quoted($0.name) } + ["\"_sync_seq\"", "\"_sync_state\"", quoted(schema.keyField)]
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let values = Array(repeating: row, count: rows).joined(separator: ", ")
        // OR IGNORE (not ON CONFLICT DO NOTHING): no constraint can abort the statement, so
        // SQLite keeps no statement journal for it.
        return "INSERT OR IGNORE INTO \(quoted(schema.name)) (\(columns.joined(separator: ", "))) VALUES \(values)"
    }

    /// Parameters one row takes in `insertSQL` and `insertManySQL`.
    var rowParameterCount: Int32 { Int32(schema.fields.count) + 3 }

    /// Binds as `runRow`.
    var updateSQL: String {
        let assignments = (quotedFields + ["\"_sync_seq\"", "\"_sync_state\""]).map { "\($0) = ?" }
        return "UPDATE \(quotedTable) SET \(assignments.joined(separator: ", ")) WHERE \(quotedKey) = ?"
    }

    var deleteAfterSQL: String {
        "DELETE FROM \(quotedTable) WHERE \"_sync_seq\" > ?"
    }

    var deleteSQL: String {
        "DELETE FROM \(quotedTable) WHERE \(quotedKey) = ?"
    }

    /// Every live key, for a pass over the whole table.
    var keysSQL: String { "SELECT \(quotedKey) FROM \(quotedTable)" }

    /// Sequence (0), key (1), state (2), declared columns (3...). Binds the cursor at 1 and,
    /// with a `matching` field, its value at 2 (an index on the field serves the scan).
    func changesSQL(matching field: String? = nil) -> String {
        let columns = ["\"_sync_seq\"", quotedKey, "\"_sync_state\""] + quotedFields
        let match = field.map { " AND \(Self.quoted($0)) = ?" } ?? ""
        return
            "SELECT \(columns.joined(separator: ", ")) FROM \(quotedTable) WHERE \"_sync_seq\" > ?\(match) ORDER BY \"_sync_seq\""
    }

    /// A canonical description stored with the table, to notice a changed declaration.
    var definition: String {
        let fields = schema.fields.map { "\($0.name):\($0.type.rawValue)" }.joined(separator: ",")
        return "key=\(schema.keyField);fields=\(fields)"
    }

    /// The given values (by field position) as a write in name order.
    func namedValues(_ given: [FieldValue?]) -> [(name: String, value: FieldValue)] {
        columnsByName.compactMap { name, column in given[column].map { (name, $0) } }
    }

    /// The given values (by field position) completed with defaults for a new record; nil
    /// when a required field is missing.
    func completedForNewRecord(_ given: [FieldValue?]) -> [FieldValue?]? {
        var result = given
        for (position, field) in schema.fields.enumerated() where given[position] == nil {
            if let defaultValue = field.defaultValue {
                result[position] = defaultValue
            } else if field.isRequired {
                return nil
            }
        }
        return result
    }

    /// Inserts (or updates) the row of a brand-new record written once: the fast path that
    /// builds no state.
    func runNewRow(
        _ statement: Statement, key: String, values: [FieldValue?], dot: Dot, timestamp: HybridTimestamp, seq: Int64
    ) throws {
        statement.resetBindings()
        for position in values.indices {
            if let value = values[position] { statement.bind(value, at: Int32(position + 1)) }
        }
        let count = Int32(schema.fields.count)
        statement.bind(seq, at: count + 1)
        statement.bind(key, at: count + 3)
        let state = codec.encodeNewLiveRecord(present: { values[$0] != nil }, dot: dot, timestamp: timestamp)
        try statement.run(bindingBlob: state, at: count + 2)
    }

    /// Binds the rest of a brand-new record's row (its values at the positions in `given` are
    /// bound already) as row `row` of `insertManySQL`: defaults, sequence, state and key.
    func bindNewRow(
        _ statement: Statement, row: Int32, key: String, given: UInt64, dot: Dot, timestamp: HybridTimestamp,
        seq: Int64
    ) {
        let base = row * rowParameterCount
        var present = given
        for (position, field) in schema.fields.enumerated() where given & (1 << UInt64(position)) == 0 {
            if let value = field.defaultValue {
                statement.bind(value, at: base + Int32(position + 1))
                present |= 1 << UInt64(position)
            } else {
                statement.bindNull(at: base + Int32(position + 1))
            }
        }
        let count = Int32(schema.fields.count)
        statement.bind(seq, at: base + count + 1)
        codec.withNewLiveRecord(present: { present & (1 << UInt64($0)) != 0 }, dot: dot, timestamp: timestamp) {
            statement.bind($0, at: base + count + 2)
        }
        statement.bind(key, at: base + count + 3)
    }

    /// The given values completed for a new record: defaults fill fields neither given nor
    /// `alreadyHeld`; nil when a required field is still missing.
    func namedValues(
        _ given: [FieldValue?], completingWith alreadyHeld: (String) -> Bool
    ) -> [(name: String, value: FieldValue)]? {
        var result: [(name: String, value: FieldValue)] = []
        result.reserveCapacity(columnsByName.count + 1)
        for (name, column) in columnsByName {
            if let value = given[column] {
                result.append((name, value))
            } else if !alreadyHeld(name) {
                let field = schema.fields[column]
                if let defaultValue = field.defaultValue {
                    result.append((name, defaultValue))
                } else if field.isRequired {
                    return nil
                }
            }
        }
        return result
    }

    /// Runs a live record's row statement: visible values (1...n), seq, encoded state, key.
    func runRow(_ statement: Statement, key: String, state: RecordState, seq: Int64) throws {
        statement.resetBindings()
        bindVisibleValues(statement, base: 0, state: state)
        let count = Int32(schema.fields.count)
        statement.bind(seq, at: count + 1)
        statement.bind(key, at: count + 3)
        try statement.run(bindingBlob: codec.encode(state, live: true), at: count + 2)
    }

    /// Binds a live record's row as row `row` of `insertManySQL` (its state copied in).
    func bindRow(_ statement: Statement, row: Int32, key: String, state: RecordState, seq: Int64) {
        let base = row * rowParameterCount
        bindVisibleValues(statement, base: base, state: state)
        let count = Int32(schema.fields.count)
        statement.bind(seq, at: base + count + 1)
        codec.withEncoded(state, live: true) { statement.bind($0, at: base + count + 2) }
        statement.bind(key, at: base + count + 3)
    }

    /// Checks a single write's values against the fields at `positions` (see `SingleWriteLayouts`).
    func validate(_ write: SingleWrite, positions: [Int]) throws(StoreError) {
        for (value, position) in zip(write.values, positions) {
            let field = schema.fields[position]
            let canonical: FieldValue
            do {
                canonical = try field.validate(value, in: name)
            } catch {
                throw StoreError(error)
            }
            guard canonical == value else {
                throw StoreError(
                    core: .invalidValue, "\(name).\(field.name) must be a \(field.type.rawValue) (got \(value))")
            }
        }
    }

    /// Binds a single write's row as row `row` of `insertManySQL`, its fields at `positions`
    /// (see `SingleWriteLayouts`), without building its state. The schema must declare fewer
    /// than 64 fields, for the short-form mask.
    func bindRow(_ statement: Statement, row: Int32, key: String, write: SingleWrite, positions: [Int], seq: Int64) {
        let base = row * rowParameterCount
        var present: UInt64 = 0
        for (value, position) in zip(write.values, positions) {
            statement.bind(value, at: base + Int32(position + 1))
            present |= 1 << UInt64(position)
        }
        for position in schema.fields.indices where present & (1 << UInt64(position)) == 0 {
            statement.bindNull(at: base + Int32(position + 1))
        }
        let count = Int32(schema.fields.count)
        statement.bind(seq, at: base + count + 1)
        codec.withNewLiveRecord(
            present: { present & (1 << UInt64($0)) != 0 }, dot: write.dot, timestamp: write.timestamp
        ) { statement.bind($0, at: base + count + 2) }
        statement.bind(key, at: base + count + 3)
    }

    /// Binds each column's visible value (null when unwritten) at `base` + its position + 1.
    private func bindVisibleValues(_ statement: Statement, base: Int32, state: RecordState) {
        // Walk the state's sorted fields beside the sorted columns: no per-field lookups.
        let fields = state.fields
        var fieldIndex = 0
        for (name, column) in columnsByName {
            while fieldIndex < fields.count, RecordState.namePrecedes(fields[fieldIndex].name, name) {
                fieldIndex += 1
            }
            let value: FieldValue =
                fieldIndex < fields.count && fields[fieldIndex].name == name
                ? fields[fieldIndex].register.winner.value : .null
            statement.bind(value, at: base + Int32(column + 1))
        }
    }

    /// A live row's record body: the single write when the row holds one (no state built),
    /// else its decoded state. Columns as in `liveState`.
    /// `memo` as in `RecordStateCodec.decodeSingleWrite`.
    func liveBody(
        _ statement: Statement, firstColumn: Int32, stateColumn: Int32, memo: inout RecordStateCodec.ScanMemo
    )
        throws(StoreError) -> KeyedRecord.Body
    {
        let write = try statement.withBlob(at: stateColumn) { (bytes) throws(StoreError) in
            try codec.decodeSingleWrite(bytes, memo: &memo) { index in
                statement.fieldValue(at: firstColumn + Int32(index), type: self.schema.fields[index].type)
            }
        }
        if let write { return .singleWrite(write) }
        return .state(try liveState(statement, firstColumn: firstColumn, stateColumn: stateColumn))
    }

    /// Decodes a live row's state from `statement`, whose declared columns start at
    /// `firstColumn` and whose state blob is at `stateColumn`.
    func liveState(_ statement: Statement, firstColumn: Int32, stateColumn: Int32) throws(StoreError) -> RecordState {
        try statement.withBlob(at: stateColumn) { (bytes) throws(StoreError) in
            try codec.decode(bytes) { index in
                statement.fieldValue(at: firstColumn + Int32(index), type: self.schema.fields[index].type)
            }
        }
    }
}
