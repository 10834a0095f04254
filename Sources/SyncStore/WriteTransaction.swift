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
    @discardableResult
    public func put(_ collection: String, key: String, _ values: [String: FieldValue]) throws(StoreError) -> RecordState {
        let table = try store.table(collection)
        let schema = table.schema
        var written: [(name: String, value: FieldValue)]
        do {
            try schema.validateKey(key)
            written = try schema.validateWrite(values)
        } catch {
            throw StoreError(error)
        }
        let stored = try perform { try storage.load(table, key: key) }
        let isLive = stored.location == .live
        if schema.policy == .immutable && stored.location != .absent {
            if written.allSatisfy({ stored.state.visibleValue(of: $0.name) == $0.value }) { return stored.state }
            throw StoreError(core: .immutableRecord, "\(collection) \(key) is immutable and already exists")
        }
        if !isLive {
            for field in schema.fields where values[field.name] == nil && stored.state.register(of: field.name) == nil {
                if let defaultValue = field.defaultValue {
                    written.append((field.name, defaultValue))
                } else if field.isRequired {
                    throw StoreError(core: .missingField, "a new \(collection) record needs \(field.name)")
                }
            }
        }
        return try commit(table, key: key, stored: stored) { state, dot, timestamp in
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
    public func resolve(_ collection: String, key: String, field: String, value: FieldValue) throws(StoreError) -> RecordState {
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
                if deleted { state.delete(dot: dot, timestamp: timestamp) } else { state.put([], dot: dot, timestamp: timestamp) }
            }
        }
        let written: [(name: String, value: FieldValue)]
        do {
            written = try table.schema.validateWrite([field: value])
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

    @discardableResult
    private func commit(
        _ table: CollectionTable, key: String, stored: RecordStorage.Stored,
        change: (inout RecordState, Dot, HybridTimestamp) -> Void
    ) throws(StoreError) -> RecordState {
        meta.counter += 1
        let dot = Dot(replica: store.replicaID, counter: meta.counter)
        let timestamp = meta.clock.now()
        var state = stored.state
        change(&state, dot, timestamp)
        let seq = meta.nextSeq()
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
