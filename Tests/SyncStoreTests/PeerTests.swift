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
        #expect(try daemon.store.bindOwner(of: replica, to: "rider:r-1") == "rider:r-1")
        #expect(try daemon.store.bindOwner(of: replica, to: "rider:r-2") == "rider:r-1")
        #expect(try daemon.store.owner(of: replica) == "rider:r-1")
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
