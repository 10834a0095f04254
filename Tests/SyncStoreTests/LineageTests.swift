import GRDB
import SyncCore
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// A device's lineage log, a daemon's check of it, and renaming a copied store's later writes.
@Suite struct LineageTests {
    @Test func everyWriteTransactionLogsOneEntryAtItsCounterAndMergesLogNone() throws {
        let device = try StoreFixture()
        #expect(try device.store.lineageLog(after: 0, limit: 100).isEmpty)
        try device.store.write { try $0.put("checkins", key: "c-1", Samples.checkin()) }
        try device.store.write { transaction in
            try transaction.put("checkins", key: "c-2", Samples.checkin())
            try transaction.put("checkins", key: "c-3", Samples.checkin())
        }
        try device.store.write { _ in }
        let log = try device.store.lineageLog(after: 0, limit: 100)
        #expect(log.map(\.counter) == [1, 3])
        #expect(Set(log.map(\.token)).count == 2)
        #expect(try device.store.lineageLog(after: 1, limit: 100) == [log[1]])
        #expect(try device.store.lineageLog(after: 0, limit: 1) == [log[1]])
        // Merging another replica's writes is no write transaction of this one.
        let other = try StoreFixture()
        try other.store.write { try $0.put("checkins", key: "c-9", Samples.checkin()) }
        _ = try device.store.pull(from: other.store)
        #expect(try device.store.lineageLog(after: 0, limit: 100) == log)
        // A copy shares the log up to the copy; their next entries differ.
        let copy = try device.store.copy()
        try device.store.write { try $0.put("checkins", key: "c-4", Samples.checkin()) }
        try copy.write { try $0.put("checkins", key: "c-5", Samples.checkin()) }
        let mine = try device.store.lineageLog(after: 0, limit: 100)
        #expect(try copy.newestCommonEntry(with: mine) == 3)
        #expect(try device.store.newestCommonEntry(with: mine) == 4)
        #expect(try copy.newestCommonEntry(with: []) == nil)
        // A fork is a new replica: it shares no lineage, so no entry passes for shared history.
        let forked = try device.store.fork()
        #expect(try forked.lineageLog(after: 0, limit: 100).isEmpty)
        #expect(try forked.newestCommonEntry(with: mine) == nil)
    }

    @Test func aDaemonTakesAPushOnlyOnTheLineageItLastSaw() throws {
        let daemon = try StoreFixture(options: .init(registersDots: true))
        let replica = ReplicaID(unchecked: "phone-1")
        let first = [LineageEntry(token: "a", counter: 1), LineageEntry(token: "b", counter: 2)]
        try daemon.store.merge([], lineage: LineageClaim(replica: replica, expected: nil, entries: first))
        #expect(try daemon.store.lineage(of: replica) == first)
        // The same push again (its reply was lost) and a continuation both land.
        try daemon.store.merge([], lineage: LineageClaim(replica: replica, expected: nil, entries: first))
        let next = [LineageEntry(token: "c", counter: 5)]
        try daemon.store.merge([], lineage: LineageClaim(replica: replica, expected: "b", entries: next))
        #expect(try daemon.store.lineage(of: replica).map(\.token) == ["a", "b", "c"])
        // A copy that last saw "b" pushes: refused, and its records do not land.
        let device = try StoreFixture()
        try device.store.write { try $0.put("checkins", key: "c-1", Samples.checkin()) }
        #expect {
            try daemon.store.merge(
                device.store.allChanges().map(\.record),
                lineage: LineageClaim(replica: replica, expected: "b", entries: [.init(token: "x", counter: 5)]))
        } throws: { ($0 as? StoreError)?.code == .replicaDiverged }
        #expect(try daemon.store.count("checkins") == 0)
        #expect(try daemon.store.lineage(of: replica).map(\.token) == ["a", "b", "c"])
        // The window keeps the newest entries, then every 32nd position, back 1,024.
        let many = (6...2_000).map { LineageEntry(token: "t\($0)", counter: Int64($0)) }
        try daemon.store.merge([], lineage: LineageClaim(replica: replica, expected: "c", entries: many))
        let held = try daemon.store.lineage(of: replica)
        #expect(held.last?.token == "t2000")
        #expect(held.suffix(32).map(\.counter) == Array(1_969...2_000))
        #expect(held.count <= 63)
        let older = Array(held.dropLast(32))
        #expect(zip(older, older.dropFirst()).allSatisfy { $1.counter - $0.counter == 32 })
        #expect(older.first.map { $0.counter > 2_000 - 1_024 && $0.counter <= 1_010 } == true)
        // A push sending its whole log again (after a restore) adds only what is newer than
        // the newest held: the window's forgotten old entries do not come back as the newest.
        try daemon.store.merge([], lineage: LineageClaim(replica: replica, expected: "t2000", entries: first + many))
        #expect(try daemon.store.lineage(of: replica) == held)
        let after = many + [LineageEntry(token: "t2001", counter: 2_001)]
        try daemon.store.merge([], lineage: LineageClaim(replica: replica, expected: "t2000", entries: after))
        #expect(try daemon.store.lineage(of: replica).last?.token == "t2001")
    }

    @Test func rekeyingMovesOnlyTheWritesAfterTheCounter() throws {
        let device = try StoreFixture()
        let store = device.store
        let old = store.replicaID
        try store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try store.write { try $0.put("checkins", key: "c-1", Samples.checkin()) }
        try store.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        try store.write { try $0.put("stations", key: "st-2", Samples.station()) }
        try store.write { try $0.delete("stations", key: "st-2") }
        let before = try store.allChanges()
        let seqBefore = try store.latestSeq()
        let renaming = try store.rekey(after: 2, clearing: ["daemon.lineage"])
        #expect(renaming.old == old && renaming.after == 2)
        #expect(store.replicaID == renaming.new)
        #expect(try store.storedReplicaID() == renaming.new)
        #expect(try store.lastRenaming() == renaming)
        #expect(try store.counter() == 3)
        #expect(try store.lineageLog(after: 0, limit: 100).isEmpty)
        let after = try store.allChanges()
        // c-1 (write 2) is untouched; st-1 (writes 1 and 3) and st-2 (writes 4 and 5) moved.
        let c1 = try #require(after.first { $0.key == "c-1" })
        #expect(before.first { $0.key == "c-1" } == c1)
        for key in ["st-1", "st-2"] {
            let moved = try #require(after.first { $0.key == key })
            let original = try #require(before.first { $0.key == key })
            #expect(moved.seq > seqBefore)
            #expect(moved.state == renaming.renamed(original.state))
            #expect(moved.state.context[old] <= 2)
        }
        #expect(try store.record("stations", key: "st-1")?.visibleValue(of: "status") == .text("closed"))
        #expect(try store.record("stations", key: "st-2")?.isDeleted == true)
        // New writes go under the new id, after the moved ones.
        try store.write { try $0.put("checkins", key: "c-3", Samples.checkin()) }
        let newest = try #require(try store.record("checkins", key: "c-3"))
        #expect(newest.context[renaming.new] == 4)
        #expect(try store.lineageLog(after: 0, limit: 100).map(\.counter) == [4])
        // Another handle on the file writes under the new id too.
        let reopened = try device.reopen()
        #expect(reopened.replicaID == renaming.new)
    }
}
