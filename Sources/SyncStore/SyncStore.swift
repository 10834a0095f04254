import Foundation
import GRDB
import SyncCore
import Synchronization

/// An offline-first replica store: declared collections materialized as SQLite tables, every
/// change captured with dots, contexts and sequence numbers, remote states merged, deltas
/// extracted and conflicts listed. The one owner of its GRDB connection.
public final class SyncStore: Sendable {
    public let schema: Schema
    /// This install's replica id, made at first open and kept in the file; renamed only when
    /// a copy of the store is found writing under it too (`rekey(after:)`).
    public var replicaID: ReplicaID { identity.withLock { $0 } }
    let identity: Mutex<ReplicaID>
    private let leapt = Mutex(false)
    let physicalClock: any PhysicalClock
    /// Whether merges keep a registry of every dot's record, to catch a replica id used by two
    /// devices even when they write different records (a daemon does).
    let options: StoreOptions
    var registersDots: Bool { options.registersDots }
    let writer: any DatabaseWriter
    /// The materialized tables, in declaration order (few: scanned, not hashed).
    let allTables: [CollectionTable]

    /// Opens (creating if needed) the store at `location` for `schema`.
    ///
    /// - Parameter clock: the wall clock behind the hybrid clock (injected by tests and the
    ///   simulator).
    public convenience init(
        _ location: StoreLocation, schema: Schema, clock: any PhysicalClock = SystemClock(),
        options: StoreOptions = StoreOptions()
    ) throws(StoreError) {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Deletes need not zero freed pages; WAL with NORMAL sync never corrupts on a crash;
            // a batch's statement journal (its savepoint's undo) stays in memory, not in a file.
            // A sync writes in bursts: checkpointing every 32 MiB of WAL rather than every 4 MiB
            // copies a page touched by many batches once instead of many times; the WAL file
            // is cut back to that size after a checkpoint.
            try db.execute(
                sql: """
                    PRAGMA secure_delete = OFF; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;
                    PRAGMA wal_autocheckpoint = 8000; PRAGMA journal_size_limit = 33554432
                    """)
        }
        let writer: any DatabaseWriter = try perform {
            switch location {
            case .file(let path):
                try FileManager.default.createDirectory(
                    at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
                return try DatabasePool(path: SyncStore.openPath(path, vfs: options.vfs), configuration: configuration)
            case .inMemory:
                return try DatabaseQueue(configuration: configuration)
            }
        }
        let home: String?
        if case .file(let path) = location { home = SyncStore.home(of: path) } else { home = nil }
        try self.init(writer: writer, schema: schema, clock: clock, options: options, home: home)
    }

    /// Wraps an open database, migrating it and installing the collections.
    ///
    /// - Parameter home: where the file lives (host and path). A file found away from the home
    ///   it was made in is a copy: it takes a replica id of its own, so two devices never
    ///   write under one id (DESIGN.md: the id is never copied with a database file).
    private init(
        writer: any DatabaseWriter, schema: Schema, clock: any PhysicalClock, options: StoreOptions, home: String? = nil
    ) throws(StoreError) {
        self.schema = schema
        physicalClock = clock
        self.options = options
        let tableList = schema.collections.map(CollectionTable.init)
        allTables = tableList
        let newReplicaID = options.newReplicaID
        let migrator = StoreMigrations.migrator { newReplicaID ?? SyncStore.makeReplicaID() }
        let replicaID: ReplicaID = try perform {
            try migrator.migrate(writer)
            return try writer.write { db in
                try StoreMigrations.install(tableList, in: db)
                if let home { try SyncStore.settle(home: home, db) }
                let stored = try String.fetchOne(db, sql: "SELECT replica_id FROM _sync_meta") ?? ""
                return try ReplicaID(stored)
            }
        }
        identity = Mutex(replicaID)
        self.writer = writer
    }

    /// A private in-memory copy of everything committed (the same replica id: a copied store
    /// file, a backup), running on `clock` with `options` (by default this store's).
    public func copy(clock: (any PhysicalClock)? = nil, options: StoreOptions? = nil) throws(StoreError) -> SyncStore {
        let destination: DatabaseQueue = try perform {
            let queue = try DatabaseQueue()
            try writer.backup(to: queue)
            return queue
        }
        return try SyncStore(
            writer: destination, schema: schema, clock: clock ?? physicalClock, options: options ?? self.options)
    }

    /// A private in-memory copy that is a new replica: every record, cursor and clock of this
    /// store under a fresh replica id with its counter at zero (a device provisioned from a
    /// synced image). Unlike `copy()`, the two never write under one id.
    public func fork(clock: (any PhysicalClock)? = nil) throws(StoreError) -> SyncStore {
        let destination: DatabaseQueue = try perform {
            let queue = try DatabaseQueue()
            try writer.backup(to: queue)
            try queue.write { db in
                try db.execute(
                    sql: "UPDATE _sync_meta SET replica_id = ?, counter = 0",
                    arguments: [SyncStore.makeReplicaID().rawValue])
                try SyncStore.startNewLineage(db)
                try db.execute(
                    sql: "INSERT OR REPLACE INTO _sync_settings (name, value) VALUES ('store.forked_from', ?)",
                    arguments: [replicaID.rawValue])
            }
            return queue
        }
        return try SyncStore(writer: destination, schema: schema, clock: clock ?? physicalClock, options: options)
    }

    /// Runs `body` as one write transaction: all of its writes commit together, or, if it
    /// throws, none do. Throws a `StoreError`, or whatever `body` throws.
    @discardableResult
    public func write<T>(_ body: (WriteTransaction) throws -> T) throws -> T {
        let result = try writeTransaction { db in
            let transaction = try WriteTransaction(store: self, db: db)
            let result = try body(transaction)
            try transaction.finish()
            return result
        }
        leapt.withLock { $0 = true }
        return result
    }

    /// Whether a write of this opening has committed (its clock leapt; see `WriteTransaction`).
    var hasLeapt: Bool { leapt.withLock { $0 } }

    /// The record's current state (live or deleted), or nil if it never reached this store.
    public func record(_ collection: String, key: String) throws(StoreError) -> RecordState? {
        let table = try table(collection)
        return try perform {
            try writer.read { db in
                let stored = try RecordStorage(db).load(table, key: key)
                return stored.location == .absent ? nil : stored.state
            }
        }
    }

    /// The sequence number of the latest change (0 for an empty store).
    public func latestSeq() throws(StoreError) -> Int64 {
        try perform { try writer.read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM _sync_meta") ?? 0 } }
    }

    /// The replica's dot counter: the counter of its latest write.
    public func counter() throws(StoreError) -> Int64 {
        try perform { try writer.read { db in try Int64.fetchOne(db, sql: "SELECT counter FROM _sync_meta") ?? 0 } }
    }

    /// A named cursor (a peer's pull position, say), 0 when never saved.
    public func cursor(named name: String) throws(StoreError) -> Int64 {
        try perform {
            try writer.read { db in try SyncStore.loadCursor(name, db) }
        }
    }

    /// Runs plain read-only SQL against the store (the materialized tables are ordinary tables).
    public func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        try perform { try writer.read(body) }
    }

    /// Closes the database connections; the store must not be used afterwards.
    public func close() throws(StoreError) {
        try perform {
            if let pool = writer as? DatabasePool { try pool.close() }
            if let queue = writer as? DatabaseQueue { try queue.close() }
        }
    }

    /// The store's wall clock, in milliseconds since the Unix epoch.
    public func nowMillis() -> Int64 {
        physicalClock.nowMillis()
    }

    /// Whether the collection `name` holds immutable records.
    public func isImmutable(_ name: String) throws(StoreError) -> Bool {
        try table(name).schema.policy == .immutable
    }

    /// The declared collection `name`, or an `unknown_collection` error.
    func table(_ name: String) throws(StoreError) -> CollectionTable {
        guard let table = allTables.first(where: { $0.name == name }) else {
            throw StoreError(core: .unknownCollection, "no collection named \(name.debugDescription)")
        }
        return table
    }

    /// One immediate transaction (writers queue on the file lock, never upgrade and deadlock).
    func transaction<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        try perform { try writeTransaction(body) }
    }

    /// An immediate transaction that lets the body's own errors through unchanged.
    private func writeTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    if let crash = options.crashBeforeCommit, crash() {
                        throw StoreError(.storage, "simulated crash: the transaction never committed")
                    }
                    return .commit
                }
                return result!
            }
        } catch let error as DatabaseError {
            throw StoreError(.storage, "SQLite: \(error.message ?? error.resultCode.description)", cause: error)
        }
    }

    /// The host and canonical path of a store file.
    static func home(of path: String) -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        return "\(host):\(canonical)"
    }

    /// Records where the file lives; a file that moved to another home forks its identity: a
    /// new replica id (derived from the old one and the new home), counter from zero. Its
    /// history keeps the old id's writes; only new writes use the new id.
    private static func settle(home: String, _ db: Database) throws {
        let stored = try String.fetchOne(db, sql: "SELECT value FROM _sync_settings WHERE name = 'store.home'")
        if stored == home { return }
        if stored != nil {
            let old = try String.fetchOne(db, sql: "SELECT replica_id FROM _sync_meta") ?? ""
            try db.execute(
                sql: "UPDATE _sync_meta SET replica_id = ?, counter = 0",
                arguments: [forkedReplicaID(of: old, at: home).rawValue])
            try startNewLineage(db)
            try db.execute(
                sql: "INSERT OR REPLACE INTO _sync_settings (name, value) VALUES ('store.forked_from', ?)",
                arguments: [old])
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO _sync_settings (name, value) VALUES ('store.home', ?)", arguments: [home])
    }

    /// The replica id a copy of `old` takes at `home`: 13 base32 characters of a hash of both.
    static func forkedReplicaID(of old: String, at home: String) -> ReplicaID {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(old)|\(home)".utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        return ReplicaID(unchecked: String((0..<13).map { alphabet[Int((hash >> UInt64($0 * 5)) & 31)] }))
    }

    private static func openPath(_ path: String, vfs: String?) -> String {
        guard let vfs else { return path }
        let escaped =
            path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["?", "#"])) ?? path
        return "file:\(escaped)?vfs=\(vfs)"
    }

    /// A fresh random replica id (see `ReplicaID.random`).
    static func makeReplicaID() -> ReplicaID {
        var generator = SystemRandomNumberGenerator()
        return ReplicaID.random { generator.next() }
    }
}
