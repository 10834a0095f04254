import GRDB
import SyncCore

extension SyncStore {
    /// Checks that a remote record fits the schema, so it can be refused before any write.
    public func validate(_ record: KeyedRecord) throws(StoreError) {
        var layouts = SingleWriteLayouts()
        try validate(record, layouts: &layouts)
    }

    /// `validate(_:)`, looking single writes' field lists up in `layouts`.
    func validate(_ record: KeyedRecord, layouts: inout SingleWriteLayouts) throws(StoreError) {
        let table = try table(record.collection)
        do {
            try table.schema.validateKey(record.key)
            if case .state(let state) = record.body { try table.schema.validateState(state) }
        } catch {
            throw StoreError(error)
        }
        if case .singleWrite(let write) = record.body {
            try table.validate(write, positions: try layouts.positions(of: write.names, in: table))
        }
    }

    /// Merges remote record states in one transaction, saving `cursor` in the same transaction
    /// so a cursor never runs ahead of the data it describes.
    ///
    /// Merging is idempotent: a state already held changes nothing and takes no new sequence
    /// number. A record carrying a dot this store holds with different content (two devices
    /// sharing a replica id) is skipped and reported in `summary.clashes`; the rest lands.
    ///
    /// - Parameter echoCursor: a cursor of local changes already sent to the record's source
    ///   (a push cursor). When it stood at the latest change before the merge, it moves past
    ///   the merged changes too, so they are not sent back.
    /// - Parameter lineage: a pushing session's claim on its replica's lineage, checked first
    ///   in the same transaction: on `replica_diverged` nothing lands.
    @discardableResult
    public func merge(
        _ records: [KeyedRecord], cursor: (name: String, value: Int64)? = nil, echoCursor: String? = nil,
        lineage: LineageClaim? = nil
    ) throws(StoreError) -> MergeSummary {
        // Records of a run share their field list: its layout is looked up once.
        var layouts = SingleWriteLayouts()
        for record in records { try validate(record, layouts: &layouts) }
        return try transaction { db in
            var lineage = lineage
            if let claim = lineage { try SyncStore.advanceLineage(claim, db) }
            var meta = try StoreMeta.load(db, store: self)
            let seqBefore = meta.seq
            let storage = RecordStorage(db)
            var summary = MergeSummary()
            summary.echoes.reserveCapacity(records.count)
            // Once two devices are caught sharing a replica id, none of its new writes is taken:
            // which of them wrote what can no longer be told, and taking any could drop the
            // other's writes.
            var clashed = Set(try String.fetchAll(db, sql: "SELECT replica FROM _sync_clashed_replicas"))
            let renamings = try SyncStore.renamings(ownOnly: false, limit: Int.max, db)
            // Records whose push the peer refused as a clash: their context may count a copy's
            // write as seen, so a pulled state's values all stay.
            let clashRefused =
                lineage != nil
                ? []
                : Set(
                    try String.fetchAll(
                        db, sql: "SELECT collection || '/' || key FROM _sync_refusals WHERE code = ?",
                        arguments: [StoreError.Code.replicaClash.rawValue]))
            let formerIDs = lineage.map { SyncStore.formerIDs(of: $0.replica, in: renamings) } ?? []
            if let replica = lineage?.replica {
                lineage?.sharedThrough = renamings.filter { $0.old == replica }.map(\.after).max() ?? 0
            }
            func markClashed(_ error: StoreError, _ dot: Dot) throws {
                // The pusher's own writes clash: a copy of its store wrote them too. It moves
                // its writes to a new replica id instead; nothing of this push lands.
                if dot.replica == lineage?.replica { throw SyncStore.divergedError(dot.replica, clashing: dot) }
                clashed.insert(dot.replica.rawValue)
                try db.execute(
                    sql: """
                        INSERT INTO _sync_clashed_replicas (replica, counter) VALUES (?1, ?2)
                        ON CONFLICT (replica) DO UPDATE SET counter = min(coalesce(counter, ?2), ?2)
                        """,
                    arguments: [dot.replica.rawValue, dot.counter])
            }
            /// Merges one record: blind insert when new, else load, check, merge and save.
            func mergeOne(_ index: Int, _ keyed: KeyedRecord, _ table: CollectionTable) throws {
                // The slow path works on the whole state: build it once.
                var record =
                    if case .state = keyed.body { keyed } else {
                        KeyedRecord(collection: keyed.collection, key: keyed.key, state: keyed.state)
                    }
                // What the sender holds: a merge that ends with exactly that is an echo.
                let sent = record.state
                // Writes a copy moved, taken in here or there before the move: they move
                // first, so one write never stands under two dots.
                var loaded: RecordStorage.Stored?
                if !renamings.isEmpty, SyncStore.holdsMovedWrite(record, of: renamings) {
                    let stored = try storage.load(table, key: record.key)
                    loaded = stored
                    let adopted = SyncStore.adopting(
                        renamings, in: record.state, evidence: [stored.state, record.state])
                    if adopted != record.state {
                        record = KeyedRecord(collection: record.collection, key: record.key, state: adopted)
                    }
                }
                if !clashed.isEmpty,
                    let unseen = try SyncStore.unseenWrite(in: record, from: clashed, storage: storage, table: table)
                {
                    if unseen.replica == lineage?.replica {
                        // Its copies parted at the first write caught clashing, if not before.
                        let first = try Int64.fetchOne(
                            db, sql: "SELECT counter FROM _sync_clashed_replicas WHERE replica = ?",
                            arguments: [unseen.replica.rawValue])
                        let clashing = Dot(
                            replica: unseen.replica, counter: min(first ?? unseen.counter, unseen.counter))
                        throw SyncStore.divergedError(unseen.replica, clashing: clashing)
                    }
                    summary.clashes.append((index, SyncStore.clashedReplicaError(record, unseen.replica)))
                    return
                }
                var arrivedFresh: [Dot] = []
                if let (clash, dot) = try registerDots(
                    of: record, in: storage, meta: meta, lineage: lineage, fresh: &arrivedFresh)
                {
                    try markClashed(clash, dot)
                    summary.clashes.append((index, clash))
                    return
                }
                receive(keyed)
                // Fast path: a live record new to this store is inserted blind.
                if !record.state.isDeleted, try !storage.mayHaveTombstones(table),
                    try storage.insertIfAbsent(table, key: record.key, state: record.state, seq: meta.seq + 1)
                {
                    let seq = meta.nextSeq()
                    if record.state == sent { summary.echoes.append(seq) }
                    summary.new += 1
                    if record.state.hasConflicts { summary.conflicts += 1 }
                    return
                }
                let stored = try loaded ?? storage.load(table, key: record.key)
                if let lineage,
                    let covered = lineage.coveredFreshWrite(
                        in: record.state, stored: stored.state, arrived: arrivedFresh)
                {
                    throw SyncStore.divergedError(lineage.replica, clashing: covered)
                }
                let held =
                    renamings.isEmpty
                    ? stored.state : SyncStore.adopting(renamings, in: stored.state, evidence: [record.state])
                var clashes = held.clashingDots(with: record.state)
                if clashes.isEmpty, let lineage,
                    let dot = try SyncStore.unseenCover(in: record.state, stored: held, lineage, former: formerIDs, db)
                {
                    clashes = [dot]
                }
                guard clashes.isEmpty else {
                    let error = SyncStore.clashError(record, clashes[0])
                    try markClashed(error, clashes[0])
                    summary.clashes.append((index, error))
                    return
                }
                var merged =
                    clashRefused.contains("\(record.collection)/\(record.key)")
                    ? held.merged(keepingAllOf: record.state) : held.merged(with: record.state)
                if options.defects.contains(.keepOnlyWinner) { merged = merged.keepingOnlyWinners() }
                if merged == stored.state {
                    summary.unchanged += 1
                    return
                }
                if stored.location == .absent { summary.new += 1 } else { summary.changed += 1 }
                if merged.hasConflicts { summary.conflicts += 1 }
                let seq = meta.nextSeq()
                try storage.save(table, key: record.key, state: merged, seq: seq, replacing: stored)
                if merged == sent { summary.echoes.append(seq) }
            }
            /// Takes in a record's clocks: its timestamps (folded, the clock takes the
            /// latest once at the end), and our own counter if it carries our writes back (a
            /// restored backup: they must never be reissued).
            var latestReceived = HybridTimestamp.zero
            func receive(_ record: KeyedRecord) {
                switch record.body {
                case .state(let state):
                    latestReceived = max(latestReceived, state.maximumTimestamp)
                    meta.counter = max(meta.counter, state.context[meta.replica])
                case .singleWrite(let write):
                    latestReceived = max(latestReceived, write.timestamp)
                    if write.dot.replica == meta.replica { meta.counter = max(meta.counter, write.dot.counter) }
                }
            }
            // Live records of one collection go in blind, `insertChunk` rows per statement;
            // when one of a chunk is not new, the chunk's rows go and it merges record by record.
            var chunk: [Int] = []
            var chunkTable: CollectionTable?
            func flushChunk() throws {
                guard let table = chunkTable, !chunk.isEmpty else { return }
                defer {
                    chunk.removeAll(keepingCapacity: true)
                    chunkTable = nil
                }
                for index in chunk { receive(records[index]) }
                let statement = try storage.insertStatement(table, rows: chunk.count)
                for (row, index) in chunk.enumerated() {
                    let seq = meta.seq + 1 + Int64(row)
                    switch records[index].body {
                    case .singleWrite(let write) where table.schema.fields.count < 64:
                        table.bindRow(
                            statement, row: Int32(row), key: records[index].key, write: write,
                            positions: try layouts.positions(of: write.names, in: table), seq: seq)
                    default:
                        table.bindRow(
                            statement, row: Int32(row), key: records[index].key, state: records[index].state, seq: seq)
                    }
                }
                guard try storage.runInsert(statement, expecting: chunk.count) else {
                    try storage.deleteRows(table, after: meta.seq)
                    for index in chunk { try mergeOne(index, records[index], table) }
                    return
                }
                for index in chunk {
                    summary.echoes.append(meta.nextSeq())
                    summary.new += 1
                    if case .state(let state) = records[index].body, state.hasConflicts {
                        summary.conflicts += 1
                        try storage.markConflict(table, key: records[index].key, true)
                    }
                }
            }
            for (index, record) in records.enumerated() {
                let table = try table(record.collection)
                guard clashed.isEmpty, !registersDots, !record.isDeleted, try !storage.mayHaveTombstones(table),
                    renamings.isEmpty || !SyncStore.holdsMovedWrite(record, of: renamings)
                else {
                    try flushChunk()
                    try mergeOne(index, record, table)
                    continue
                }
                if chunkTable?.name != table.name {
                    try flushChunk()
                    chunkTable = table
                }
                chunk.append(index)
                if chunk.count == CollectionTable.insertChunk { try flushChunk() }
            }
            try flushChunk()
            if let cursor {
                try SyncStore.saveCursor(cursor.name, cursor.value, db)
            }
            if let echoCursor, try SyncStore.loadCursor(echoCursor, db) == seqBefore {
                try SyncStore.saveCursor(echoCursor, meta.seq, db)
            }
            if latestReceived > .zero, !options.defects.contains(.clockNotAdvancedOnMerge) {
                _ = meta.clock.receive(latestReceived)
            }
            try meta.save(db)
            return summary
        }
    }

    /// With a dot registry, records each new dot's record and timestamp (and, for a write its
    /// author sends for the first time, the sequence number it arrives after) and reports a
    /// dot already registered to another record or with another timestamp: the same write id
    /// used twice.
    private func registerDots(
        of record: KeyedRecord, in storage: RecordStorage, meta: StoreMeta, lineage: LineageClaim?,
        fresh: inout [Dot]
    ) throws -> (StoreError, Dot)? {
        guard registersDots else { return nil }
        let insert = try storage.db.cachedStatement(
            sql: """
                INSERT INTO _sync_dots (replica, counter, collection, key, fresh_after, timestamp)
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """)
        let select = try storage.db.cachedStatement(
            sql: "SELECT collection, key, timestamp FROM _sync_dots WHERE replica = ? AND counter = ?")
        var seen = Set<Dot>()
        for field in record.state.fields {
            for value in field.register where seen.insert(value.dot).inserted {
                insert.resetBindings()
                insert.bind(value.dot.replica.rawValue, at: 1)
                insert.bind(value.dot.counter, at: 2)
                insert.bind(record.collection, at: 3)
                insert.bind(record.key, at: 4)
                let arrivesFresh = lineage?.arrivesFresh(value.dot) == true
                if arrivesFresh { insert.bind(meta.seq, at: 5) } else { insert.bindNull(at: 5) }
                insert.bind(value.timestamp.rawValue, at: 6)
                try insert.run()
                if insert.changedRowCount == 1 {
                    if arrivesFresh { fresh.append(value.dot) }
                    continue
                }
                select.resetBindings()
                select.bind(value.dot.replica.rawValue, at: 1)
                select.bind(value.dot.counter, at: 2)
                defer { select.resetBindings() }
                guard try select.nextRow() else { continue }
                if select.text(at: 0) != record.collection || select.text(at: 1) != record.key
                    || (!select.isNull(at: 2) && select.int64(at: 2) != value.timestamp.rawValue)
                {
                    return (SyncStore.clashError(record, value.dot), value.dot)
                }
            }
        }
        return nil
    }

    /// A write of another's that `record` counts as seen without holding it, though it
    /// arrived fresh after where the pusher had pulled: what the pusher saw under that dot
    /// was a copy's write.
    private static func unseenCover(
        in record: RecordState, stored: RecordState, _ lineage: LineageClaim, former: Set<ReplicaID>, _ db: Database
    ) throws -> Dot? {
        guard let seenThrough = lineage.seenThrough else { return nil }
        for dot in lineage.writtenOver(in: record, stored: stored, former: former) {
            let arrived = try Int64.fetchOne(
                db, sql: "SELECT fresh_after FROM _sync_dots WHERE replica = ? AND counter = ?",
                arguments: [dot.replica.rawValue, dot.counter])
            if let arrived, arrived >= seenThrough { return dot }
        }
        return nil
    }

    /// A write in `record` by a clashed replica that this store has not seen.
    private static func unseenWrite(
        in record: KeyedRecord, from clashed: Set<String>, storage: RecordStorage, table: CollectionTable
    ) throws -> Dot? {
        let suspects = record.state.fields.lazy.flatMap(\.register.values).filter {
            clashed.contains($0.dot.replica.rawValue)
        }
        guard !suspects.isEmpty else { return nil }
        let stored = try storage.load(table, key: record.key)
        return suspects.first { !stored.state.context.covers($0.dot) }?.dot
    }

    private static func clashedReplicaError(_ record: KeyedRecord, _ replica: ReplicaID) -> StoreError {
        StoreError(
            .replicaClash,
            "\(record.collection) \(record.key) carries a new write of replica \(replica), which two devices were caught sharing; give one of them a new store"
        )
    }

    private static func clashError(_ record: KeyedRecord, _ dot: Dot) -> StoreError {
        StoreError(
            .replicaClash,
            "write \(dot) of \(record.collection) \(record.key) was made with different content elsewhere: two devices use replica id \(dot.replica)"
        )
    }

    /// Saves a named cursor on its own (after a push is acknowledged, say).
    public func setCursor(_ name: String, to value: Int64) throws(StoreError) {
        try transaction { db in try SyncStore.saveCursor(name, value, db) }
    }

    static func loadCursor(_ name: String, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM _sync_cursors WHERE name = ?", arguments: [name]) ?? 0
    }

    static func saveCursor(_ name: String, _ value: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO _sync_cursors (name, value) VALUES (?, ?)", arguments: [name, max(value, 0)])
    }
}
