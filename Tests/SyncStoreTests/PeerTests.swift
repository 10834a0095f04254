import GRDB
import SyncCore
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// What a store keeps about its peers: epochs, how far it holds each replica, refusals, the
/// dot registry and the echo cursor.
@Suite struct PeerTests {
    @Test func aDotRegistryCatchesAClonedReplicaWritingDifferentRecords() throws {
        let daemonDirectory = TemporaryDirectory("daemon")
        defer { daemonDirectory.remove() }
        let daemon = try SyncStore(
            .file(daemonDirectory.file("d.sqlite")), schema: YongaiCollections.schema,
            options: .init(registersDots: true))
        let device = try StoreFixture()
        // A clone that escaped detection: an in-memory copy keeps the replica id.
        let clone = try device.store.copy()
        try device.store.write { try $0.put("checkins", key: "c-original", Samples.checkin()) }
        try clone.write { try $0.put("checkins", key: "c-clone", Samples.checkin(rider: "someone-else")) }
        #expect(try daemon.pull(from: device.store).new == 1)
        let summary = try daemon.pull(from: clone)
        #expect(summary.new == 0)
        #expect(summary.clashes.map(\.error.code) == [.replicaClash])
        #expect(try daemon.count("checkins") == 1)
        // The same record arriving again is no clash.
        #expect(try daemon.pull(from: device.store).clashes.isEmpty)
    }

    @Test func aReplicaIsBoundToItsFirstOwner() throws {
        let daemon = try StoreFixture()
        let replica = ReplicaID(unchecked: "phone-1")
        #expect(try daemon.store.owner(of: replica) == nil)
        #expect(try daemon.store.greet(replica, owner: "rider:r-1", cursor: nil).owner == "rider:r-1")
        #expect(try daemon.store.greet(replica, owner: "rider:r-2", cursor: nil).owner == "rider:r-1")
        #expect(try daemon.store.owner(of: replica) == "rider:r-1")
    }

    /// How far a replica can have read survives a restore's cursor reset and follows it to
    /// the id it moves to.
    @Test func whatAReplicaCanHaveReadIsKeptAcrossResetsAndRenamings() throws {
        let daemon = try StoreFixture()
        let epoch = try daemon.store.startEpoch()
        for index in 1...5 {
            try daemon.store.write { try $0.put("checkins", key: "c-\(index)", Samples.checkin()) }
        }
        let replica = ReplicaID(unchecked: "phone-1")
        #expect(try daemon.store.greet(replica, owner: "rider:r-1", cursor: (epoch, 4)).seen == 4)
        // A cursor of an epoch the store never had (lost with a restore) read what came
        // before the newest epoch began; a later hello with a reset cursor keeps the most.
        let next = try daemon.store.startEpoch()
        #expect(try daemon.store.greet(replica, owner: "rider:r-1", cursor: ("lost", 99)).seen == 5)
        #expect(try daemon.store.greet(replica, owner: "rider:r-1", cursor: (next, 0)).seen == 5)
        // Another principal's hello notes nothing.
        #expect(try daemon.store.greet(replica, owner: "rider:r-2", cursor: (next, 5)).seen == 0)
        // The id it moves to reads on from there.
        let moved = ReplicaID(unchecked: "phone-1b")
        try daemon.store.learn([ReplicaRenaming(old: replica, new: moved, after: 3)])
        #expect(try daemon.store.greet(moved, owner: "rider:r-1", cursor: (next, 0)).seen == 5)
    }

    @Test func resumePointsFollowEpochs() throws {
        let daemon = try StoreFixture()
        let first = try daemon.store.startEpoch()
        for index in 0..<5 { try daemon.store.write { try $0.put("checkins", key: "c\(index)", Samples.checkin()) } }
        let second = try daemon.store.startEpoch()
        for index in 5..<8 { try daemon.store.write { try $0.put("checkins", key: "c\(index)", Samples.checkin()) } }
        #expect(try daemon.store.resumePoint(epoch: second, seq: 8) == 8)
        #expect(try daemon.store.resumePoint(epoch: first, seq: 4) == 4)
        #expect(try daemon.store.resumePoint(epoch: first, seq: 7) == 5)
        #expect(try daemon.store.resumePoint(epoch: "never-seen", seq: 7) == 0)
    }

    @Test func refusalsAreFlaggedAndClearedWhenAccepted() throws {
        let device = try StoreFixture()
        try device.store.recordRefusals(
            [("checkins", "c1", "forbidden", "not yours")], accepted: [])
        #expect(try device.store.refusals().map(\.code) == ["forbidden"])
        try device.store.recordRefusals([], accepted: [("checkins", "c1")])
        #expect(try device.store.refusals().isEmpty)
    }

    @Test func theEchoCursorSkipsPulledChangesOnlyWhenNothingWasPending() throws {
        let device = try StoreFixture()
        let daemon = try StoreFixture()
        try daemon.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try device.store.merge(daemon.store.allChanges().map(\.record), echoCursor: "push")
        #expect(try device.store.cursor(named: "push") == device.store.latestSeq())

        try device.store.write { try $0.put("checkins", key: "mine", Samples.checkin()) }
        let pending = try device.store.cursor(named: "push")
        try daemon.store.write { try $0.put("stations", key: "st-2", Samples.station()) }
        try device.store.merge(daemon.store.allChanges().map(\.record), echoCursor: "push")
        #expect(try device.store.cursor(named: "push") == pending)
    }
}
