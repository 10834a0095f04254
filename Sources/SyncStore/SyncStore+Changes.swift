import GRDB
import SyncCore

extension SyncStore {
    /// The changes after `cursor`, in sequence order, at most `limit` of them that pass
    /// `include` (a scope filter). Filtered-out changes still advance `nextCursor`, so a
    /// scoped reader never scans them twice; when nothing is left, `nextCursor` is the latest
    /// change of the store.
    ///
    /// - Parameter scopes: per collection, which live records the scan reads at all (by index
    ///   where the store has one); collections not named are read whole. Deleted records are
    ///   left to `include`.
    public func changes(
        after cursor: Int64, limit: Int, scopes: [String: ReadScope] = [:],
        where include: (RecordChange) -> Bool = { _ in true }
    ) throws(StoreError) -> ChangeBatch {
        precondition(limit > 0, "a change batch holds at least one change")
        return try perform {
            try writer.read { db in
                var sources: [ChangeSource] = []
                for table in allTables {
                    let scope = scopes[table.name] ?? .all
                    if scope == .none { continue }
                    var matching: (field: String, value: FieldValue)?
                    if case .matching(let field, let value) = scope {
                        guard table.schema.field(named: field) != nil || field == table.schema.keyField else {
                            throw StoreError(
                                core: .unknownField, "\(table.name) has no field \(field.debugDescription)")
                        }
                        matching = (field, value)
                    }
                    let statement = try db.cachedStatement(sql: table.changesSQL(matching: matching?.field))
                    var memo = RecordStateCodec.ScanMemo()
                    sources.append(
                        try ChangeSource(statement, after: cursor, matching: matching?.value) {
                            (statement) throws(StoreError) in
                            (
                                table.name,
                                try table.liveBody(statement, firstColumn: 3, stateColumn: 2, memo: &memo)
                            )
                        })
                }
                let tombstones = try db.cachedStatement(
                    sql: "SELECT seq, key, state, collection FROM _sync_tombstones WHERE seq > ? ORDER BY seq")
                sources.append(
                    try ChangeSource(tombstones, after: cursor) { (statement) throws(StoreError) in
                        let table = try self.table(statement.text(at: 3))
                        let state = try statement.withBlob(at: 2) { (bytes) throws(StoreError) in
                            try table.codec.decode(bytes, column: nil)
                        }
                        return (table.name, .state(state))
                    })
                defer { sources.forEach { $0.close() } }
                var records: [KeyedRecord] = []
                var seqs: [Int64] = []
                records.reserveCapacity(min(limit, 4_096))
                seqs.reserveCapacity(min(limit, 4_096))
                var nextCursor = cursor
                while true {
                    // The source whose next row has the smallest sequence number.
                    var best: Int?
                    for index in sources.indices where sources[index].headSeq != nil {
                        if best == nil || sources[index].headSeq! < sources[best!].headSeq! { best = index }
                    }
                    guard let best else {
                        // Everything after the cursor was read (or is out of scope).
                        let latest = try Int64.fetchOne(db, sql: "SELECT seq FROM _sync_meta") ?? nextCursor
                        return ChangeBatch(
                            records: records, seqs: seqs, nextCursor: max(nextCursor, latest), hasMore: false)
                    }
                    if records.count == limit {
                        return ChangeBatch(records: records, seqs: seqs, nextCursor: nextCursor, hasMore: true)
                    }
                    let change = try sources[best].take()
                    nextCursor = change.seq
                    if include(change) {
                        records.append(change.record)
                        seqs.append(change.seq)
                    }
                }
            }
        }
    }

    /// Indexes the store needs beyond its collections' own, as field lists per collection
    /// (a daemon's read scopes, say). Creates those missing; an unknown field is refused.
    public func addIndexes(_ indexes: [String: [[String]]]) throws(StoreError) {
        for (collection, fieldLists) in indexes.sorted(by: { $0.key < $1.key }) {
            let table = try table(collection)
            for fields in fieldLists {
                for field in fields where table.schema.field(named: field) == nil {
                    throw StoreError(core: .unknownField, "\(collection) has no field \(field.debugDescription)")
                }
                try transaction { db in try db.execute(sql: table.createIndexSQL(fields)) }
            }
        }
    }

    /// How many changes lie after `cursor` (for "pending" counts and progress).
    public func changeCount(after cursor: Int64) throws(StoreError) -> Int {
        try perform {
            try writer.read { db in
                var total =
                    try Int.fetchOne(
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

/// One table's changes, read row by row in sequence order. Rows hold the sequence number in
/// column 0 and the key in column 1; `decode` reads the collection and state.
private struct ChangeSource {
    let statement: Statement
    let decode: (Statement) throws(StoreError) -> (collection: String, body: KeyedRecord.Body)
    private(set) var headSeq: Int64?

    init(
        _ statement: Statement, after cursor: Int64, matching value: FieldValue? = nil,
        decode: @escaping (Statement) throws(StoreError) -> (collection: String, body: KeyedRecord.Body)
    ) throws {
        self.statement = statement
        self.decode = decode
        statement.resetBindings()
        statement.bind(cursor, at: 1)
        if let value { statement.bind(value, at: 2) }
        headSeq = try statement.nextRow() ? statement.int64(at: 0) : nil
    }

    /// The current row as a change; moves to the next row.
    mutating func take() throws -> RecordChange {
        let (collection, body) = try decode(statement)
        let record = KeyedRecord(collection: collection, key: statement.text(at: 1), body: body)
        let change = RecordChange(seq: statement.int64(at: 0), record: record)
        headSeq = try statement.nextRow() ? statement.int64(at: 0) : nil
        return change
    }

    func close() {
        statement.resetBindings()
    }
}
