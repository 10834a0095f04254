import GRDB
import SyncCore

/// Local writes inside one store transaction: every put, delete and resolve bumps the replica
/// counter and hybrid clock, updates the record's registers, context and sequence number, and
/// rewrites its materialized row. All of it commits together or not at all.
public final class WriteTransaction {
    private let store: SyncStore
    private let storage: RecordStorage
    private var meta: StoreMeta
    private let counterAtStart: Int64
    /// Where the clock's logical counter starts in a new millisecond, drawn per transaction.
    private let logicalStart: Int64

    init(store: SyncStore, db: Database) throws {
        self.store = store
        storage = RecordStorage(db)
        meta = try StoreMeta.load(db, store: store)
        counterAtStart = meta.counter
        // Timestamps apart from a copy's: a leap of up to a millisecond once per opening (a
        // copied store's file opens elsewhere too), and a random start in each millisecond.
        if !store.hasLeapt { meta.clock.leap(by: 1 + Int64(store.options.random() % 0xFFFF)) }
        logicalStart = Int64(store.options.random() % 0x400)
    }

    /// The record's current state, or nil if it was never written here.
    public func record(_ collection: String, key: String) throws(StoreError) -> RecordState? {
        let table = try store.table(collection)
        let stored = try perform { try storage.load(table, key: key) }
        return stored.location == .absent ? nil : stored.state
    }

    /// Creates, updates or re-creates a record with the given field values.
    ///
    /// A new record needs every required field (defaults fill the rest). An immutable record
    /// accepts only a repeat of what it holds, which changes nothing.
    public func put(_ collection: String, key: String, _ values: [String: FieldValue]) throws(StoreError) {
        let table = try store.table(collection)
        let schema = table.schema
        let given: [FieldValue?]
        do {
            try schema.validateKey(key)
            given = try schema.validateWrite(values)
        } catch {
            throw StoreError(error)
        }
        // Fast path: a complete new record is inserted blind, with no look-up and no state built.
        if let complete = table.completedForNewRecord(given), try !perform({ try storage.mayHaveTombstones(table) }) {
            let before = meta
            let (dot, timestamp, seq) = nextWrite()
            let inserted = try perform {
                try storage.insertNewIfAbsent(
                    table, key: key, values: complete, dot: dot, timestamp: timestamp, seq: seq)
            }
            if inserted { return }
            meta = before
        }
        let stored = try perform { try storage.load(table, key: key) }
        if schema.policy == .immutable && stored.location != .absent {
            let repeats = zip(schema.fields, given).allSatisfy { field, value in
                value == nil || stored.state.visibleValue(of: field.name) == value
            }
            if repeats { return }
            throw StoreError(core: .immutableRecord, "\(collection) \(key) is immutable and already exists")
        }
        let written: [(name: String, value: FieldValue)]
        if stored.location == .live {
            written = table.namedValues(given)
        } else if let completed = table.namedValues(given, completingWith: { stored.state.register(of: $0) != nil }) {
            written = completed
        } else {
            let missing = zip(schema.fields, given).first { field, value in
                value == nil && field.isRequired && field.defaultValue == nil
                    && stored.state.register(of: field.name) == nil
            }
            throw StoreError(
                core: .missingField, "a new \(collection) record needs \(missing?.0.name ?? "more fields")")
        }
        try commit(table, key: key, stored: stored) { state, dot, timestamp in
            state.put(written, dot: dot, timestamp: timestamp)
        }
    }

    /// Writes many records of one collection as one all-or-nothing batch: each record as `put`
    /// would, but if any is refused none of the batch is kept (the transaction's earlier writes
    /// stay) and the error names the record.
    ///
    /// A batch of complete new records (an import, a day of check-ins) goes in as multi-row
    /// inserts with no look-ups.
    public func put(
        _ collection: String, batch records: some Collection<(key: String, values: [String: FieldValue])>
    ) throws(StoreError) {
        let table = try store.table(collection)
        if records.isEmpty { return }
        if try insertNewRecords(table, records) { return }
        let before = meta
        try perform { try storage.db.execute(sql: "SAVEPOINT yongai_batch") }
        do throws(StoreError) {
            for record in records {
                do {
                    try put(collection, key: record.key, record.values)
                } catch {
                    throw StoreError(error.code, "\(collection) \(record.key): \(error.message)", cause: error)
                }
            }
            try perform { try storage.db.execute(sql: "RELEASE yongai_batch") }
        } catch {
            meta = before
            try perform { try storage.db.execute(sql: "ROLLBACK TO yongai_batch; RELEASE yongai_batch") }
            throw error
        }
    }

    /// The fast path of a batch, all or nothing: true when every record went in blind; false,
    /// with nothing kept, when some record is not new and complete (take the slow path).
    private func insertNewRecords(
        _ table: CollectionTable, _ records: some Collection<(key: String, values: [String: FieldValue])>
    ) throws(StoreError) -> Bool {
        let before = meta
        do {
            if try insertBlind(table, records) { return true }
        } catch {
            meta = before
            try perform { try storage.deleteRows(table, after: before.seq) }
            throw error
        }
        meta = before
        try perform { try storage.deleteRows(table, after: before.seq) }
        return false
    }

    /// Inserts complete records new to the collection (no tombstones, no live row) blind,
    /// `CollectionTable.insertChunk` rows per statement, binding values as they are validated.
    /// Stops with false when a record turns out not to be both; what went in stays for the
    /// caller to remove.
    private func insertBlind(
        _ table: CollectionTable, _ records: some Collection<(key: String, values: [String: FieldValue])>
    ) throws(StoreError) -> Bool {
        let schema = table.schema
        guard schema.fields.count < 64, try !perform({ try storage.mayHaveTombstones(table) }) else { return false }
        let required = schema.fields.indices.reduce(UInt64(0)) { mask, position in
            schema.fields[position].isRequired && schema.fields[position].defaultValue == nil
                ? mask | 1 << UInt64(position) : mask
        }
        let fullChunks = records.count / CollectionTable.insertChunk * CollectionTable.insertChunk
        var statement = try perform {
            try storage.insertStatement(table, rows: min(records.count, CollectionTable.insertChunk))
        }
        var row: Int32 = 0
        for (index, record) in records.enumerated() {
            if index == fullChunks, row == 0 {
                statement = try perform { try storage.insertStatement(table, rows: records.count - fullChunks) }
            }
            let base = row * table.rowParameterCount
            var given: UInt64 = 0
            do {
                try schema.validateKey(record.key)
                try schema.validateWrite(record.values) { position, value in
                    statement.bind(value, at: base + Int32(position + 1))
                    given |= 1 << UInt64(position)
                }
            } catch {
                throw StoreError(core: error.code, "\(table.name) \(record.key): \(error.message)")
            }
            guard given & required == required else { return false }
            let (dot, timestamp, seq) = nextWrite()
            table.bindNewRow(
                statement, row: row, key: record.key, given: given, dot: dot, timestamp: timestamp, seq: seq)
            row += 1
            if index + 1 == records.count || row == Int32(CollectionTable.insertChunk) {
                let inserted = try perform { try storage.runInsert(statement, expecting: Int(row)) }
                guard inserted else { return false }
                row = 0
            }
        }
        return true
    }

    /// Deletes a live record. Its state stays (as a tombstone) so the delete replicates.
    public func delete(_ collection: String, key: String) throws(StoreError) {
        let table = try store.table(collection)
        if table.schema.policy == .immutable {
            throw StoreError(core: .immutableRecord, "\(collection) records are immutable and cannot be deleted")
        }
        let stored = try perform { try storage.load(table, key: key) }
        guard stored.location == .live else {
            throw StoreError(.notFound, "\(collection) has no record \(key.debugDescription)")
        }
        try commit(table, key: key, stored: stored) { state, dot, timestamp in
            state.delete(dot: dot, timestamp: timestamp)
        }
    }

    /// Resolves a field's conflict by writing `value` over every sibling this replica holds.
    /// Resolving `_deleted` to true deletes the record; to false keeps it.
    @discardableResult
    public func resolve(_ collection: String, key: String, field: String, value: FieldValue) throws(StoreError)
        -> RecordState
    {
        let table = try store.table(collection)
        let stored = try perform { try storage.load(table, key: key) }
        guard stored.location != .absent else {
            throw StoreError(.notFound, "\(collection) has no record \(key.debugDescription)")
        }
        if field == RecordState.deletedField {
            guard case .bool(let deleted) = value else {
                throw StoreError(core: .invalidValue, "_deleted must be true or false (got \(value))")
            }
            return try commit(table, key: key, stored: stored) { state, dot, timestamp in
                if deleted {
                    state.delete(dot: dot, timestamp: timestamp)
                } else {
                    state.put([], dot: dot, timestamp: timestamp)
                }
            }
        }
        let written: [(name: String, value: FieldValue)]
        do {
            written = table.namedValues(try table.schema.validateWrite([field: value]))
        } catch {
            throw StoreError(error)
        }
        return try commit(table, key: key, stored: stored) { state, dot, timestamp in
            state.write(written, dot: dot, timestamp: timestamp)
        }
    }

    /// Makes again, as one new write stamped now, this replica's values of the record stamped
    /// after `wallMillis` (a clock that ran ahead; see `RecordState.restamped`). False when
    /// it holds none.
    public func restamp(_ collection: String, key: String, after wallMillis: Int64) throws(StoreError) -> Bool {
        let table = try store.table(collection)
        let stored = try perform { try storage.load(table, key: key) }
        guard stored.location != .absent else { return false }
        let before = meta
        let (dot, timestamp, seq) = nextWrite()
        guard let state = stored.state.restamped(writtenBy: meta.replica, after: wallMillis, as: dot, at: timestamp)
        else {
            meta = before
            return false
        }
        try perform { try storage.save(table, key: key, state: state, seq: seq, replacing: stored) }
        return true
    }

    /// Saves the clocks, and a lineage entry when the transaction wrote; called once, just
    /// before commit.
    func finish() throws {
        try meta.save(storage.db)
        if meta.counter > counterAtStart {
            try SyncStore.appendLineageEntry(
                counter: meta.counter, token: ReplicaID.random(store.options.random).rawValue,
                startedAt: counterAtStart, storage.db)
        }
    }

    /// Takes the next dot, timestamp and sequence number.
    private func nextWrite() -> (Dot, HybridTimestamp, Int64) {
        meta.counter += 1
        return (
            Dot(replica: meta.replica, counter: meta.counter), meta.clock.now(logicalStart: logicalStart),
            meta.nextSeq()
        )
    }

    @discardableResult
    private func commit(
        _ table: CollectionTable, key: String, stored: RecordStorage.Stored,
        change: (inout RecordState, Dot, HybridTimestamp) -> Void
    ) throws(StoreError) -> RecordState {
        let (dot, timestamp, seq) = nextWrite()
        var state = stored.state
        change(&state, dot, timestamp)
        try perform { try storage.save(table, key: key, state: state, seq: seq, replacing: stored) }
        return state
    }
}

/// Runs SQLite work, turning its errors into store errors.
func perform<T>(_ body: () throws -> T) throws(StoreError) -> T {
    do {
        return try body()
    } catch let error as StoreError {
        throw error
    } catch let error as DatabaseError {
        throw StoreError(.storage, "SQLite: \(error.message ?? error.resultCode.description)", cause: error)
    } catch {
        throw StoreError(.storage, "\(error)")
    }
}
