import Foundation
import GRDB
import SyncCore
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// Fails the Nth write-side SQLite I/O operation (write, sync, truncate) of a local batch, of
/// a merge and of a renaming, for N = 1, 2, ... until the operation gets through untouched. After each, the
/// reopened file passes `PRAGMA integrity_check`, holds the batch wholly or not at all, and
/// the next write's counter is above every counter already used.
@Suite(.serialized) struct CrashConsistencyTests {
    /// What a store holds, compared whole.
    struct Snapshot: Equatable {
        var changes: [RecordChange]
        var counter: Int64
        var seq: Int64
        var cursor: Int64
        var rows: [String]
    }

    static func snapshot(_ store: SyncStore) throws -> Snapshot {
        let rows = try store.read { db in
            try ["stations", "checkins", "appeals", "_sync_tombstones", "_sync_conflicts"].flatMap { table in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1").map { "\(table) \($0)" }
            }
        }
        return Snapshot(
            changes: try store.allChanges(), counter: try store.counter(), seq: try store.latestSeq(),
            cursor: try store.cursor(named: "peer"), rows: rows)
    }

    static func open(_ path: String, vfs: String? = nil) throws -> SyncStore {
        var options = StoreOptions(vfs: vfs)
        // Fixed randomness: a renaming picks the same new replica id in every run.
        options.random = { 0x5EED_5EED_5EED_5EED }
        return try SyncStore(
            .file(path), schema: YongaiCollections.schema, clock: FixedClock(millis: 1_764_000_000_000),
            options: options)
    }

    static func copy(_ source: String, to target: String) throws {
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: source + suffix) {
            try FileManager.default.copyItem(atPath: source + suffix, toPath: target + suffix)
        }
    }

    /// The base store: a few committed records, closed cleanly.
    static func makeBase(in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("base.sqlite")
        let store = try open(path)
        try store.write { transaction in
            try transaction.put("stations", key: "st-1", Samples.station())
            try transaction.put("stations", key: "st-2", Samples.station("Two"))
            try transaction.put("stations", key: "st-3", Samples.station("Three"))
            try transaction.delete("stations", key: "st-3")
            for index in 0..<5 { try transaction.put("checkins", key: "old-\(index)", Samples.checkin()) }
        }
        return path
    }

    static func localBatch(_ store: SyncStore) throws {
        try store.write { transaction in
            for index in 0..<10 {
                try transaction.put("checkins", key: "new-\(index)", Samples.checkin(rider: "rider-\(index % 3)"))
            }
            // A batch on the multi-row fast path, and one on the slow path (st-1 is held).
            try transaction.put(
                "checkins",
                batch: (10..<40).map { (key: "new-\($0)", values: Samples.checkin(rider: "rider-\($0 % 3)")) })
            try transaction.put(
                "stations",
                batch: [
                    (key: "st-1", values: ["status": .text("full"), "free_chargers": .integer(0)]),
                    (key: "st-9", values: Samples.station("Nine")),
                ])
            try transaction.delete("stations", key: "st-2")
            try transaction.put("stations", key: "st-3", ["status": .text("open")])
        }
    }

    static func remoteRecords() throws -> [KeyedRecord] {
        let source = try SyncStore(
            .inMemory, schema: YongaiCollections.schema, clock: FixedClock(millis: 1_764_000_100_000))
        try source.write { transaction in
            for index in 0..<30 {
                try transaction.put("checkins", key: "remote-\(index)", Samples.checkin(rider: "r\(index)"))
            }
            try transaction.put("stations", key: "st-1", Samples.station("Renamed", status: "closed"))
        }
        return try source.allChanges().map(\.record)
    }

    /// - Parameter prepare: writes made at the working path before the sweep (under the
    ///   replica id every working copy then has), part of what each run starts from.
    func runFaultSweep(
        sticky: Bool, prepare: ((SyncStore) throws -> Void)? = nil, operation: (SyncStore) throws -> Void
    ) throws -> (points: Int, committed: Int) {
        FaultInjection.register()
        let directory = TemporaryDirectory("crash")
        defer { directory.remove() }
        var base = try Self.makeBase(in: directory)
        // Every run works on a fresh copy at one path, so each copy takes the same replica id.
        let path = directory.file("work.sqlite")
        func freshCopy() throws {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            try Self.copy(base, to: path)
        }
        if let prepare {
            try freshCopy()
            let store = try Self.open(path)
            try prepare(store)
            try store.close()
            let prepared = directory.file("prepared.sqlite")
            try Self.copy(path, to: prepared)
            base = prepared
        }
        try freshCopy()
        let before = try Self.snapshot(Self.open(path))
        try freshCopy()
        let after: Snapshot
        do {
            let reference = try Self.open(path)
            try operation(reference)
            after = try Self.snapshot(reference)
        }
        #expect(after != before)

        var committed = 0
        for failAt in 1...5_000 {
            try freshCopy()
            var fired = false
            do {
                let store = try Self.open(path, vfs: FaultInjection.vfsName)
                FaultInjection.arm(failingOperation: failAt, sticky: sticky)
                do {
                    try operation(store)
                } catch let error as StoreError {
                    #expect(error.code == .storage, "N=\(failAt): \(error)")
                }
                fired = FaultInjection.fired
            }
            FaultInjection.disarm()

            let reopened = try Self.open(path)
            let check = try reopened.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            #expect(check == ["ok"], "N=\(failAt)")
            let state = try Self.snapshot(reopened)
            #expect(state == before || state == after, "N=\(failAt): the batch is partly applied")
            if state == after { committed += 1 }

            // The next write takes a counter above every one already used.
            let used =
                state.changes.flatMap { $0.state.context.entries }.filter { $0.replica == reopened.replicaID }
                .map(\.counter).max() ?? 0
            try reopened.write {
                try $0.put(
                    "appeals", key: "probe", ["rider_id": .text("r"), "category": .text("c"), "text": .text("t")])
            }
            let probe = try #require(try reopened.record("appeals", key: "probe"))
            #expect(probe.context[reopened.replicaID] > used, "N=\(failAt): counter reused")
            if !fired { return (failAt - 1, committed) }
        }
        Issue.record("the operation never completed without touching the fault")
        return (0, committed)
    }

    @Test(arguments: [false, true]) func aLocalBatchIsAllOrNothingUnderIOErrors(sticky: Bool) throws {
        let result = try runFaultSweep(sticky: sticky, operation: Self.localBatch)
        #expect(result.points >= 3, "the batch touched the disk \(result.points) times")
    }

    @Test(arguments: [false, true]) func aMergeAndItsCursorAreAllOrNothingUnderIOErrors(sticky: Bool) throws {
        let records = try Self.remoteRecords()
        let result = try runFaultSweep(sticky: sticky) { store in
            try store.merge(records, cursor: (name: "peer", value: 31))
        }
        #expect(result.points >= 3, "the merge touched the disk \(result.points) times")
    }

    @Test(arguments: [false, true]) func aRenamingIsAllOrNothingUnderIOErrors(sticky: Bool) throws {
        let result = try runFaultSweep(sticky: sticky, prepare: Self.localBatch) { store in
            let old = store.replicaID
            let renaming = try store.rekey(after: 2)
            #expect(renaming.old == old && store.replicaID == renaming.new)
        }
        #expect(result.points >= 3, "the renaming touched the disk \(result.points) times")
    }
}
