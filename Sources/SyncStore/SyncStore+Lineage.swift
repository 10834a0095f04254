import GRDB
import SyncCore

extension SyncStore {
    /// How many of a replica's newest lineage entries a daemon keeps all of; beyond them it
    /// keeps every `lineageWindow`-th position, back to `lineageWindow` squared. At most 63
    /// entries per replica, reaching back 1,024 write transactions: enough to find where two
    /// copies parted, give or take 32, at a bounded cost per replica.
    public static let lineageWindow = 32
    /// How many entries a device keeps in its own lineage log.
    static let lineageLogDepth: Int64 = 4_096

    /// Adds the entry of a write transaction that ended at `counter` to the lineage log,
    /// trimming the log now and then.
    static func appendLineageEntry(counter: Int64, token: String, startedAt: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO _sync_lineage_log (counter, token) VALUES (?, ?)", arguments: [counter, token])
        if counter / 256 != startedAt / 256 {
            try db.execute(
                sql: """
                    DELETE FROM _sync_lineage_log WHERE counter < (
                        SELECT counter FROM _sync_lineage_log ORDER BY counter DESC LIMIT 1 OFFSET ?)
                    """, arguments: [lineageLogDepth])
        }
    }

    /// Empties the lineage log: its entries name counters of a replica id this store no longer
    /// writes under (a renaming, a fork, a moved file), so none may be taken for shared history.
    static func startNewLineage(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM _sync_lineage_log")
    }

    /// This device's lineage log entries after `counter`, oldest first: at most the newest
    /// `limit` of them.
    public func lineageLog(after counter: Int64, limit: Int) throws(StoreError) -> [LineageEntry] {
        try perform {
            try writer.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT counter, token FROM _sync_lineage_log WHERE counter > ? ORDER BY counter DESC LIMIT ?",
                    arguments: [counter, limit]
                )
                .reversed().map { LineageEntry(token: $0["token"], counter: $0["counter"]) }
            }
        }
    }

    /// The largest counter of this device's lineage log entries that are among `entries`:
    /// the last write transaction the device shares with whoever holds them (nil: none).
    public func newestCommonEntry(with entries: [LineageEntry]) throws(StoreError) -> Int64? {
        try perform {
            try writer.read { db in
                var newest: Int64?
                for entry in entries.sorted(by: { $0.counter > $1.counter }) {
                    let token = try String.fetchOne(
                        db, sql: "SELECT token FROM _sync_lineage_log WHERE counter = ?", arguments: [entry.counter])
                    if token == entry.token {
                        newest = entry.counter
                        break
                    }
                }
                return newest
            }
        }
    }

    /// `replica`'s recent lineage entries as this daemon holds them, oldest first.
    public func lineage(of replica: ReplicaID) throws(StoreError) -> [LineageEntry] {
        try perform { try writer.read { db in try SyncStore.lineage(of: replica, db) } }
    }

    /// The token of `replica`'s newest lineage entry as this daemon holds it (nil: none).
    public func newestLineageToken(of replica: ReplicaID) throws(StoreError) -> String? {
        try perform { try writer.read { db in try SyncStore.newestLineage(of: replica, db)?.token } }
    }

    /// `replica`'s newest lineage entry held, with its position (nil: none).
    private static func newestLineage(of replica: ReplicaID, _ db: Database) throws -> (
        position: Int64, token: String, counter: Int64
    )? {
        try Row.fetchOne(
            db,
            sql: "SELECT position, token, counter FROM _sync_lineages WHERE replica = ? ORDER BY position DESC LIMIT 1",
            arguments: [replica.rawValue]
        ).map { ($0["position"], $0["token"], $0["counter"]) }
    }

    static func lineage(of replica: ReplicaID, _ db: Database) throws -> [LineageEntry] {
        try Row.fetchAll(
            db, sql: "SELECT token, counter FROM _sync_lineages WHERE replica = ? ORDER BY position",
            arguments: [replica.rawValue]
        )
        .map { LineageEntry(token: $0["token"], counter: $0["counter"]) }
    }

    /// Checks `claim` against the newest entry held and records its entries after it; throws
    /// `replica_diverged` when another device's entry came in between.
    static func advanceLineage(_ claim: LineageClaim, _ db: Database) throws {
        let newest = try newestLineage(of: claim.replica, db)
        if let newest, newest.token != claim.expected, !claim.entries.contains(where: { $0.token == newest.token }) {
            throw divergedError(claim.replica)
        }
        guard !claim.entries.isEmpty else { return }
        let held = Set(try lineage(of: claim.replica, db).map(\.token))
        var position = newest?.position ?? 0
        // Entries before the newest held are history (a push sending its whole log again
        // after a restore, say): appended, they would pass for newer than it.
        for entry in claim.entries where !held.contains(entry.token) && entry.counter > (newest?.counter ?? 0) {
            position += 1
            try db.execute(
                sql: "INSERT INTO _sync_lineages (replica, position, token, counter) VALUES (?, ?, ?, ?)",
                arguments: [claim.replica.rawValue, position, entry.token, entry.counter])
        }
        let window = Int64(lineageWindow)
        try db.execute(
            sql: """
                DELETE FROM _sync_lineages WHERE replica = ?1
                    AND (position <= ?2 - ?3 * ?3 OR (position <= ?2 - ?3 AND position % ?3 != 0))
                """,
            arguments: [claim.replica.rawValue, position, window])
    }

    /// Another device pushed as `replica` (a copy of its store), or wrote what its writes clash with.
    /// With `clashing`, the pusher's write a copy of its store made too (the error's cause).
    public static func divergedError(_ replica: ReplicaID, clashing: Dot? = nil) -> StoreError {
        guard let clashing else {
            return StoreError(
                .replicaDiverged,
                "another device pushed as replica \(replica) since this one last did: a copy of its store is in use")
        }
        return StoreError(
            .replicaDiverged,
            "another device wrote as replica \(replica) too (its write \(clashing) is not this one's): a copy of its store is in use",
            cause: ClashingWrite(clashing))
    }

    /// Moves this replica's own writes after counter `after` to a fresh replica id, for a
    /// device that learned a copy of its store wrote under the same id after that point.
    ///
    /// Every record holding such a write is rewritten under a new sequence number (so it is
    /// pushed again), the counter continues from the moved writes, the lineage log starts
    /// over, and the store writes under the new id from now on. One transaction: a crash
    /// leaves the old id or the new one whole.
    /// - Parameter clearing: settings that belonged to the old id (its push lineage), removed
    ///   in the same transaction.
    @discardableResult
    public func rekey(after: Int64, clearing: [String] = []) throws(StoreError) -> ReplicaRenaming {
        let renaming = try transaction { db in
            var meta = try StoreMeta.load(db, store: self)
            let renaming = ReplicaRenaming(
                old: meta.replica, new: ReplicaID.random(options.random), after: max(0, min(after, meta.counter)),
                through: meta.counter)
            let storage = RecordStorage(db)
            for table in allTables {
                for key in try SyncStore.allKeys(of: table, db) {
                    let stored = try storage.load(table, key: key)
                    guard renaming.moves(stored.state) else { continue }
                    try storage.save(
                        table, key: key, state: renaming.renamed(stored.state), seq: meta.nextSeq(), replacing: stored)
                }
            }
            meta.replica = renaming.new
            meta.counter -= renaming.after
            try meta.save(db)
            try SyncStore.startNewLineage(db)
            try SyncStore.recordRenaming(renaming, own: true, db)
            for name in clearing {
                try db.execute(sql: "DELETE FROM _sync_settings WHERE name = ?", arguments: [name])
            }
            return renaming
        }
        identity.withLock { $0 = renaming.new }
        return renaming
    }

    /// The replica id in the file, refreshed into `replicaID` (another process may have
    /// renamed it).
    public func storedReplicaID() throws(StoreError) -> ReplicaID {
        let stored = try perform {
            try writer.read { db in
                ReplicaID(unchecked: try String.fetchOne(db, sql: "SELECT replica_id FROM _sync_meta") ?? "")
            }
        }
        identity.withLock { $0 = stored }
        return stored
    }

    /// Every key of `table`, live or deleted.
    private static func allKeys(of table: CollectionTable, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: table.keysSQL)
            + String.fetchAll(
                db, sql: "SELECT key FROM _sync_tombstones WHERE collection = ?", arguments: [table.name])
    }
}
