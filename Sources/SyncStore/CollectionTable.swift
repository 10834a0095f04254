import SyncCore

/// The SQL of one collection's materialized table.
///
/// The table holds one row per live record with its visible values in real, typed columns, so
/// `sqlite3` and plain SQL read it directly. Two more columns carry the sync metadata:
/// `_sync_seq`, the change sequence number (the row id, so a delta scan is a range scan), and
/// `_sync_state`, the record's full replicated state. Deleted records move to
/// `_sync_tombstones`, so the table lists exactly what is visible.
struct CollectionTable: Sendable {
    let schema: CollectionSchema

    var name: String { schema.name }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The visible columns: key first, then the declared fields.
    var columnNames: [String] { [schema.keyField] + schema.fields.map(\.name) }

    var createTableSQL: String {
        let key = "\(Self.quoted(schema.keyField)) TEXT NOT NULL UNIQUE"
        let fields = schema.fields.map { "\(Self.quoted($0.name)) \($0.type.sqlType)" }
        let columns = [key] + fields + ["\"_sync_seq\" INTEGER PRIMARY KEY", "\"_sync_state\" BLOB NOT NULL"]
        return "CREATE TABLE \(Self.quoted(name)) (\(columns.joined(separator: ", ")))"
    }

    func createIndexSQL(_ columns: [String]) -> String {
        let indexName = "\(name)_by_\(columns.joined(separator: "_"))"
        return
            "CREATE INDEX IF NOT EXISTS \(Self.quoted(indexName)) ON \(Self.quoted(name))(\(columns.map(Self.quoted).joined(separator: ", ")))"
    }

    func addColumnSQL(_ field: FieldSchema) -> String {
        "ALTER TABLE \(Self.quoted(name)) ADD COLUMN \(Self.quoted(field.name)) \(field.type.sqlType)"
    }

    var selectStateSQL: String {
        "SELECT \"_sync_state\" FROM \(Self.quoted(name)) WHERE \(Self.quoted(schema.keyField)) = ?"
    }

    /// Binds key (1), fields (2...n+1), seq (n+2), state (n+3).
    var upsertSQL: String {
        let columns = columnNames.map(Self.quoted) + ["\"_sync_seq\"", "\"_sync_state\""]
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        return "INSERT OR REPLACE INTO \(Self.quoted(name))(\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
    }

    var deleteSQL: String {
        "DELETE FROM \(Self.quoted(name)) WHERE \(Self.quoted(schema.keyField)) = ?"
    }

    var changesSQL: String {
        "SELECT \"_sync_seq\", \(Self.quoted(schema.keyField)), \"_sync_state\" FROM \(Self.quoted(name)) WHERE \"_sync_seq\" > ? ORDER BY \"_sync_seq\""
    }

    /// A canonical description stored with the table, to notice a changed declaration.
    var definition: String {
        let fields = schema.fields.map { "\($0.name):\($0.type.rawValue)" }.joined(separator: ",")
        return "key=\(schema.keyField);fields=\(fields)"
    }
}
