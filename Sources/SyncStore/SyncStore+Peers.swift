import Foundation
import GRDB
import SyncCore

extension SyncStore {
    /// Binds `replica` to `owner` (who first synced with it) unless it is bound already, and
    /// returns the owner it is bound to.
    private static func bindOwner(of replica: ReplicaID, to owner: String, _ db: Database) throws -> String {
        try db.execute(
            sql: "INSERT INTO _sync_replica_owners (replica, owner) VALUES (?, ?) ON CONFLICT DO NOTHING",
            arguments: [replica.rawValue, owner])
        return try String.fetchOne(
            db, sql: "SELECT owner FROM _sync_replica_owners WHERE replica = ?", arguments: [replica.rawValue]) ?? owner
    }

    /// Who `replica` is bound to, if anyone.
    public func owner(of replica: ReplicaID) throws(StoreError) -> String? {
        try perform {
            try writer.read { db in
                try String.fetchOne(
                    db, sql: "SELECT owner FROM _sync_replica_owners WHERE replica = ?", arguments: [replica.rawValue])
            }
        }
    }

    /// Starts a new epoch of this store's change stream (a daemon does at every start) and
    /// returns its id (`id`, or a random one). Cursors carry the epoch they were issued in.
    public func startEpoch(id: String? = nil) throws(StoreError) -> String {
        let epoch = id ?? SyncStore.makeReplicaID().rawValue
        try transaction { db in
            let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM _sync_meta") ?? 0
            try db.execute(
                sql: "INSERT INTO _sync_epochs (epoch, start_seq, started_at) VALUES (?, ?, ?)",
                arguments: [epoch, seq, physicalClock.nowMillis()])
        }
        return epoch
    }

    /// Where a reader whose cursor stands at `seq` of `epoch` can safely resume.
    ///
    /// A cursor from an epoch this store has, at a point its history still reaches, resumes
    /// as it is. One from an epoch it has but beyond where that epoch now ends (the store was
    /// restored from an older copy) resumes where the epoch ends. One from an epoch it never
    /// had (a history lost with the restore) starts over from 0; merges are idempotent.
    public func resumePoint(epoch: String, seq: Int64) throws(StoreError) -> Int64 {
        try perform {
            try writer.read { db in
                let epochs = try Row.fetchAll(
                    db, sql: "SELECT epoch, start_seq FROM _sync_epochs ORDER BY start_seq, rowid")
                guard let index = epochs.firstIndex(where: { $0["epoch"] == epoch }) else { return 0 }
                let latest = try Int64.fetchOne(db, sql: "SELECT seq FROM _sync_meta") ?? 0
                let end: Int64 = index + 1 < epochs.count ? epochs[index + 1]["start_seq"] : latest
                return min(seq, end)
            }
        }
    }

    /// How far into this store's history a reader whose cursor stands at `seq` of `epoch`
    /// can have read, at most: as `resumePoint`, except that a cursor from an epoch this
    /// store never had (lost with a restore) read what came before the newest epoch began.
    public func seenPoint(epoch: String, seq: Int64) throws(StoreError) -> Int64 {
        try perform { try writer.read { db in try SyncStore.seenPoint(epoch: epoch, seq: seq, db) } }
    }

    /// A client's hello, in one transaction: binds `replica` to `owner` (who first synced
    /// with it) unless it is bound already and, when it is bound to `owner`, notes that its cursor stood at `cursor` (epoch and
    /// seq; nil: it never pulled). Returns the owner and how far into this store's history the
    /// client can have read: the most noted for it or for the ids it wrote as before it moved
    /// (known renamings), so a cursor a restore sent back to an earlier point does not forget
    /// what the device had read before.
    public func greet(_ replica: ReplicaID, owner: String, cursor: (epoch: String, seq: Int64)?) throws(StoreError)
        -> (owner: String, seen: Int64)
    {
        try transaction { db in
            let bound = try SyncStore.bindOwner(of: replica, to: owner, db)
            guard bound == owner else { return (bound, 0) }
            let point = try cursor.map { try SyncStore.seenPoint(epoch: $0.epoch, seq: $0.seq, db) } ?? 0
            try db.execute(
                sql: """
                    INSERT INTO _sync_seen (replica, seq) VALUES (?1, ?2)
                    ON CONFLICT (replica) DO UPDATE SET seq = max(seq, ?2)
                    """,
                arguments: [replica.rawValue, point])
            let former = SyncStore.formerIDs(
                of: replica, in: try SyncStore.renamings(ownOnly: false, limit: Int.max, db))
            let ids = [replica.rawValue] + former.map(\.rawValue)
            let seen = try Int64.fetchOne(
                db,
                sql:
                    "SELECT max(seq) FROM _sync_seen WHERE replica IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                arguments: StatementArguments(ids))
            return (bound, seen ?? point)
        }
    }

    private static func seenPoint(epoch: String, seq: Int64, _ db: Database) throws -> Int64 {
        let epochs = try Row.fetchAll(db, sql: "SELECT epoch, start_seq FROM _sync_epochs ORDER BY start_seq, rowid")
        let latest = try Int64.fetchOne(db, sql: "SELECT seq FROM _sync_meta") ?? 0
        guard let index = epochs.firstIndex(where: { $0["epoch"] == epoch }) else {
            return epochs.last?["start_seq"] ?? latest
        }
        let end: Int64 = index + 1 < epochs.count ? epochs[index + 1]["start_seq"] : latest
        return min(seq, end)
    }

    /// A named text setting (a peer's address, the epoch of a pull cursor), nil when unset.
    public func setting(named name: String) throws(StoreError) -> String? {
        try perform {
            try writer.read { db in
                try String.fetchOne(db, sql: "SELECT value FROM _sync_settings WHERE name = ?", arguments: [name])
            }
        }
    }

    /// Saves text settings and integer cursors together, in one transaction.
    public func save(settings: [String: String], cursors: [String: Int64] = [:]) throws(StoreError) {
        try transaction { db in
            for (name, value) in settings {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO _sync_settings (name, value) VALUES (?, ?)", arguments: [name, value])
            }
            for (name, value) in cursors { try SyncStore.saveCursor(name, value, db) }
        }
    }

    /// Flags records the peer refused (kept here, never dropped), and clears the flags of
    /// records it has now taken.
    public func recordRefusals(
        _ refusals: [(collection: String, key: String, code: String, message: String)],
        accepted: [(collection: String, key: String)]
    ) throws(StoreError) {
        try transaction { db in
            for record in accepted {
                try db.execute(
                    sql: "DELETE FROM _sync_refusals WHERE collection = ? AND key = ?",
                    arguments: [record.collection, record.key])
            }
            for refusal in refusals {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO _sync_refusals (collection, key, code, message) VALUES (?, ?, ?, ?)",
                    arguments: [refusal.collection, refusal.key, refusal.code, refusal.message])
            }
        }
    }

    /// Makes records local changes again (a new sequence number each) so they are pushed
    /// again: ones the peer refused as a clash, which a renaming since may have settled.
    public func requeue(_ records: [(collection: String, key: String)]) throws(StoreError) {
        guard !records.isEmpty else { return }
        let tables = try records.map { record throws(StoreError) in try table(record.collection) }
        try transaction { db in
            var meta = try StoreMeta.load(db, store: self)
            let storage = RecordStorage(db)
            for (record, table) in zip(records, tables) {
                let stored = try storage.load(table, key: record.key)
                guard stored.location != .absent else { continue }
                try storage.save(table, key: record.key, state: stored.state, seq: meta.nextSeq(), replacing: stored)
            }
            try meta.save(db)
        }
    }

    /// Records the peer refused, with its reasons.
    public func refusals() throws(StoreError) -> [(collection: String, key: String, code: String, message: String)] {
        try perform {
            try writer.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT collection, key, code, message FROM _sync_refusals ORDER BY collection, key"
                )
                .map { ($0["collection"], $0["key"], $0["code"], $0["message"]) }
            }
        }
    }
}
