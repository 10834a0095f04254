import GRDB
import SyncCore

extension SyncStore {
    /// The changes after `cursor`, in sequence order, at most `limit` of them that pass
    /// `include` (a scope filter). Filtered-out changes still advance `nextCursor`, so a
    /// scoped reader never scans them twice.
    public func changes(
        after cursor: Int64, limit: Int, where include: (RecordChange) -> Bool = { _ in true }
    ) throws(StoreError) -> ChangeBatch {
        precondition(limit > 0, "a change batch holds at least one change")
        return try perform {
            try writer.read { db in
                var sources = try allTables.map { table in
                    try ChangeSource(db.cachedStatement(sql: table.changesSQL), collection: table.name, after: cursor)
                }
                sources.append(
                    try ChangeSource(
                        db.cachedStatement(
                            sql: "SELECT seq, key, state, collection FROM _sync_tombstones WHERE seq > ? ORDER BY seq"),
                        collection: nil, after: cursor))
                defer { sources.forEach { $0.close() } }
                var changes: [RecordChange] = []
                var nextCursor = cursor
                while true {
                    // The source whose next row has the smallest sequence number.
                    var best: Int?
                    for index in sources.indices where sources[index].headSeq != nil {
                        if best == nil || sources[index].headSeq! < sources[best!].headSeq! { best = index }
                    }
                    guard let best else { return ChangeBatch(changes: changes, nextCursor: nextCursor, hasMore: false) }
                    if changes.count == limit { return ChangeBatch(changes: changes, nextCursor: nextCursor, hasMore: true) }
                    let change = try sources[best].take()
                    nextCursor = change.seq
                    if include(change) { changes.append(change) }
                }
            }
        }
    }

    /// How many changes lie after `cursor` (for "pending" counts and progress).
    public func changeCount(after cursor: Int64) throws(StoreError) -> Int {
        try perform {
            try writer.read { db in
                var total = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM _sync_tombstones WHERE seq > ?", arguments: [cursor]) ?? 0
                for table in allTables {
                    total +=
                        try Int.fetchOne(
                            db, sql: "SELECT COUNT(*) FROM \(CollectionTable.quoted(table.name)) WHERE _sync_seq > ?",
                            arguments: [cursor]) ?? 0
                }
                return total
            }
        }
    }
}

/// One table's changes, read row by row in sequence order.
private struct ChangeSource {
    let statement: Statement
    /// The collection of every row, or nil when rows carry it in column 3 (tombstones).
    let collection: String?
    private(set) var headSeq: Int64?

    init(_ statement: Statement, collection: String?, after cursor: Int64) throws {
        self.statement = statement
        self.collection = collection
        statement.resetBindings()
        statement.bind(cursor, at: 1)
        headSeq = try statement.nextRow() ? statement.int64(at: 0) : nil
    }

    /// The current row as a change; moves to the next row.
    mutating func take() throws -> RecordChange {
        let change = RecordChange(
            seq: statement.int64(at: 0), collection: collection ?? statement.text(at: 3), key: statement.text(at: 1),
            state: try statement.recordState(at: 2))
        headSeq = try statement.nextRow() ? statement.int64(at: 0) : nil
        return change
    }

    func close() {
        statement.resetBindings()
    }
}
