import GRDB
import SyncCore

extension SyncStore {
    /// Checks that a remote record fits the schema, so it can be refused before any write.
    public func validate(_ record: RemoteRecord) throws(StoreError) {
        let schema = try table(record.collection).schema
        do {
            try schema.validateKey(record.key)
            try schema.validateState(record.state)
        } catch {
            throw StoreError(error)
        }
    }

    /// Merges remote record states in one transaction (all or nothing), saving `cursor` in the
    /// same transaction so a cursor never runs ahead of the data it describes.
    ///
    /// Merging is idempotent: a state already held changes nothing and takes no new sequence
    /// number. A record that holds one dot with different content on both sides (two devices
    /// sharing a replica id) fails the batch with `replica_clash`.
    @discardableResult
    public func merge(_ records: [RemoteRecord], cursor: (name: String, value: Int64)? = nil) throws(StoreError)
        -> MergeSummary
    {
        for record in records { try validate(record) }
        return try transaction { db in
            var meta = try StoreMeta.load(db, physicalClock: physicalClock)
            let storage = RecordStorage(db)
            var summary = MergeSummary()
            for record in records {
                let table = try table(record.collection)
                meta.clock.receive(record.state.maximumTimestamp)
                // Our own writes coming back (a restored backup) must never be reissued.
                meta.counter = max(meta.counter, record.state.context[replicaID])
                // Fast path: a live record new to this store is inserted blind.
                if !record.state.isDeleted, try !storage.mayHaveTombstones(table),
                    try storage.insertIfAbsent(table, key: record.key, state: record.state, seq: meta.seq + 1)
                {
                    _ = meta.nextSeq()
                    summary.new += 1
                    if record.state.hasConflicts { summary.conflicts += 1 }
                    continue
                }
                let stored = try storage.load(table, key: record.key)
                let clashes = stored.state.clashingDots(with: record.state)
                guard clashes.isEmpty else {
                    throw StoreError(
                        .replicaClash,
                        "\(record.collection) \(record.key) holds write \(clashes[0]) with different content on two devices: replica id \(clashes[0].replica) is used twice"
                    )
                }
                let merged = stored.state.merged(with: record.state)
                if merged == stored.state {
                    summary.unchanged += 1
                    continue
                }
                if stored.location == .absent { summary.new += 1 } else { summary.changed += 1 }
                if merged.hasConflicts { summary.conflicts += 1 }
                try storage.save(table, key: record.key, state: merged, seq: meta.nextSeq(), replacing: stored)
            }
            if let cursor {
                try SyncStore.saveCursor(cursor.name, cursor.value, db)
            }
            try meta.save(db)
            return summary
        }
    }

    /// Saves a named cursor on its own (after a push is acknowledged, say).
    public func setCursor(_ name: String, to value: Int64) throws(StoreError) {
        try transaction { db in try SyncStore.saveCursor(name, value, db) }
    }

    private static func saveCursor(_ name: String, _ value: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO _sync_cursors (name, value) VALUES (?, ?)", arguments: [name, max(value, 0)])
    }
}
