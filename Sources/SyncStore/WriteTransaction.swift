import GRDB
import SyncCore

/// Local writes inside one store transaction: every put, delete and resolve bumps the replica
/// counter and hybrid clock, updates the record's registers, context and sequence number, and
/// rewrites its materialized row. All of it commits together or not at all.
public final class WriteTransaction {
    private let store: SyncStore
    private let storage: RecordStorage
    private var meta: StoreMeta

    init(store: SyncStore, db: Database) throws {
        self.store = store
        storage = RecordStorage(db)
        meta = try StoreMeta.load(db, physicalClock: store.physicalClock)
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

    /// Saves the clocks; called once, just before commit.
    func finish() throws {
        try meta.save(storage.db)
    }

    /// Takes the next dot, timestamp and sequence number.
    private func nextWrite() -> (Dot, HybridTimestamp, Int64) {
        meta.counter += 1
        return (Dot(replica: store.replicaID, counter: meta.counter), meta.clock.now(), meta.nextSeq())
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
