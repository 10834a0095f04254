import Foundation
import SyncClient
import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// The daemon and clients over real loopback TCP.
@Suite(.serialized) struct EndToEndTests {
    /// Stations and a rider edit while the daemon is down; once it is up, syncing brings all
    /// to identical values and sibling sets, with the concurrent status edit a conflict
    /// everywhere and each check-in exactly once.
    @Test func devicesThatEditedWhileTheDaemonWasDownConverge() async throws {
        let fixture = DaemonFixture()
        let seed = try fixture.openDaemonStore()
        try seed.write { transaction in
            try transaction.put("stations", key: "st-1", Samples.station("Haishu"))
            try transaction.put("stations", key: "st-2", Samples.station("Jiangbei"))
        }
        try seed.close()
        let stationOne = try fixture.addDevice("station-1", role: "station", subject: "st-1")
        let stationTwo = try fixture.addDevice("station-2", role: "station", subject: "st-2")
        let admin = try fixture.addDevice("admin", role: "admin", subject: "ops")
        let rider = try fixture.addDevice("rider", role: "rider", subject: "r-7")
        try await fixture.start()
        for name in ["station-1", "station-2", "admin", "rider"] { try await fixture.sync(name) }
        await fixture.stop()

        // Daemon down: everyone works offline.
        try stationOne.write { transaction in
            try transaction.put("stations", key: "st-1", ["status": .text("full")])
            try transaction.put("checkins", key: "k1", Samples.checkin(rider: "r-7", station: "st-1"))
        }
        try admin.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        try stationTwo.write { try $0.put("checkins", key: "k2", Samples.checkin(rider: "r-9", station: "st-2")) }
        try rider.write { try $0.put("checkins", key: "k3", Samples.checkin(rider: "r-7", station: "st-2")) }

        try await fixture.start()
        for _ in 0..<2 {
            for name in ["station-1", "station-2", "admin", "rider"] { try await fixture.sync(name) }
        }
        let daemon = try #require(fixture.daemon).store
        #expect(try admin.states("stations") == daemon.states("stations"))
        #expect(try admin.states("checkins") == daemon.states("checkins"))
        for store in [stationOne, stationTwo, admin, rider, daemon] {
            #expect(try store.states("stations") == daemon.states("stations"))
            #expect(try store.conflicts().map(\.field) == ["status"])
        }
        #expect(try daemon.count("SELECT COUNT(*) FROM checkins") == 3)
        #expect(try rider.count("SELECT COUNT(*) FROM checkins") == 2)
        #expect(try stationTwo.count("SELECT COUNT(*) FROM checkins") == 2)
        await fixture.stop()
    }

    /// The connection is cut after every number of daemon lines, mid-push and mid-pull; the
    /// next sync converges with nothing lost or duplicated.
    @Test func aConnectionCutAtEveryBatchBoundaryResumes() async throws {
        var cut = 1
        var sawCuts = 0
        while true {
            let fixture = DaemonFixture()
            let seed = try fixture.openDaemonStore()
            try seed.write { transaction in
                for index in 0..<7 { try transaction.put("stations", key: "st-\(index)", Samples.station("S\(index)")) }
            }
            try seed.close()
            let device = try fixture.addDevice("kiosk", role: "station", subject: "st-0")
            try device.write { transaction in
                for index in 0..<7 {
                    try transaction.put(
                        "checkins", key: "k\(index)", Samples.checkin(rider: "r-\(index)", station: "st-0"))
                }
            }
            try await fixture.start()
            let proxy = try CuttingProxy(targetPort: fixture.port)
            proxy.cutNextConnection(afterDaemonLines: cut)
            let first: ClientSession.SyncReport?
            do {
                first = try await fixture.client("kiosk", port: proxy.port, batchSize: 2).sync()
            } catch {
                first = nil
                sawCuts += 1
            }
            try await fixture.client("kiosk", port: proxy.port, batchSize: 2).sync()
            let daemon = try #require(fixture.daemon).store
            #expect(try daemon.count("SELECT COUNT(*) FROM checkins") == 7, "cut after \(cut)")
            #expect(try device.count("SELECT COUNT(*) FROM stations") == 7, "cut after \(cut)")
            #expect(try device.states("stations") == daemon.states("stations"), "cut after \(cut)")
            #expect(try device.states("checkins") == daemon.states("checkins"), "cut after \(cut)")
            await fixture.stop()
            if first != nil { break }
            cut += 1
        }
        #expect(sawCuts >= 8, "pushes and pulls of 2 records took \(sawCuts) daemon lines")
    }

    @Test func accessIsCheckedPerRecordAndPullsStayInScope() async throws {
        let fixture = DaemonFixture()
        let rider = try fixture.addDevice("rider", role: "rider", subject: "r-7")
        let other = try fixture.addDevice("other", role: "rider", subject: "r-8")
        try await fixture.start()
        try other.write { try $0.put("checkins", key: "theirs", Samples.checkin(rider: "r-8", station: "st-1")) }
        try await fixture.sync("other")
        try rider.write { transaction in
            try transaction.put("checkins", key: "mine", Samples.checkin(rider: "r-7", station: "st-1"))
            try transaction.put("checkins", key: "forged", Samples.checkin(rider: "r-8", station: "st-1"))
            try transaction.put("stations", key: "st-1", Samples.station("Mine now"))
        }
        let report = try await fixture.sync("rider")
        #expect(report.refused == 2)
        #expect(Set(try rider.refusals().map(\.key)) == ["forged", "st-1"])
        let daemon = try #require(fixture.daemon).store
        #expect(try daemon.count("SELECT COUNT(*) FROM checkins") == 2)
        #expect(try daemon.count("SELECT COUNT(*) FROM stations") == 0)
        // The rider still has its refused writes, and never received the other rider's.
        #expect(try rider.count("SELECT COUNT(*) FROM checkins WHERE id = 'theirs'") == 0)
        #expect(try rider.count("SELECT COUNT(*) FROM checkins WHERE id = 'forged'") == 1)
        await fixture.stop()
    }

    /// A copied store (same replica id) syncing over the network: the second copy to sync is
    /// told at hello, moves its later writes to a new replica id and syncs again; every
    /// check-in lands once, nothing is refused, both copies converge.
    @Test func aCopiedStoreIsToldApartAndLosesNothing() async throws {
        let fixture = DaemonFixture()
        let rider = try fixture.addDevice("rider", role: "rider", subject: "r-7")
        try await fixture.start()
        try rider.write { try $0.put("checkins", key: "c-early", Samples.checkin(rider: "r-7", station: "st-1")) }
        try await fixture.sync("rider")
        try rider.write { try $0.put("checkins", key: "c-shared", Samples.checkin(rider: "r-7", station: "st-1")) }
        let clone = try rider.copy()
        fixture.devices["clone"] = (clone, try fixture.token("rider", "r-7"))
        try rider.write { try $0.put("checkins", key: "c-rider", Samples.checkin(rider: "r-7", station: "st-2")) }
        try clone.write { try $0.put("checkins", key: "c-clone", Samples.checkin(rider: "r-7", station: "st-3")) }
        try await fixture.sync("rider")
        let report = try await fixture.sync("clone")
        #expect(report.refused == 0)
        #expect(clone.replicaID != rider.replicaID)
        #expect(try clone.lastRenaming()?.old == rider.replicaID)
        try await fixture.sync("rider")
        let daemon = try #require(fixture.daemon).store
        let keys = ["c-early", "c-shared", "c-rider", "c-clone"]
        #expect(try daemon.count("SELECT COUNT(*) FROM checkins") == keys.count)
        #expect(try daemon.count("SELECT COUNT(*) FROM _sync_conflicts") == 0)
        for key in keys {
            let held = try daemon.record("checkins", key: key)
            #expect(held != nil, "\(key)")
            #expect(try rider.record("checkins", key: key) == held, "\(key)")
            #expect(try clone.record("checkins", key: key) == held, "\(key)")
        }
        #expect(try rider.refusals().isEmpty && clone.refusals().isEmpty)
        await fixture.stop()
    }

    @Test func aSubscribedClientSeesAnotherClientsPushWithoutAsking() async throws {
        let fixture = DaemonFixture()
        let watcher = try fixture.addDevice("watcher", role: "admin", subject: "ops")
        let writer = try fixture.addDevice("writer", role: "admin", subject: "desk")
        try await fixture.start()
        let live = AsyncStream<ClientSession.Event>.makeStream()
        let client = fixture.client("watcher")
        let running = Task { try await client.run { live.continuation.yield($0) } }
        var events = live.stream.makeAsyncIterator()
        while let event = await events.next() {
            if case .caughtUp = event { break }
        }
        try writer.write { try $0.put("stations", key: "st-live", Samples.station("Pushed elsewhere")) }
        try await fixture.sync("writer")
        var received = false
        while let event = await events.next() {
            if case .received(let count, _) = event, count > 0 {
                received = true
                break
            }
        }
        #expect(received)
        #expect(try watcher.count("SELECT COUNT(*) FROM stations WHERE id = 'st-live'") == 1)
        running.cancel()
        await fixture.stop()
    }

    /// A live client whose daemon goes away keeps retrying with backoff and, once the daemon is
    /// back, catches up and streams again without anyone asking.
    @Test func aLiveClientReconnectsAfterTheDaemonRestarts() async throws {
        let fixture = DaemonFixture()
        let watcher = try fixture.addDevice("watcher", role: "admin", subject: "ops")
        let writer = try fixture.addDevice("writer", role: "admin", subject: "desk")
        try await fixture.start()
        let port = fixture.port
        let live = AsyncStream<ClientSession.Event>.makeStream()
        let client = fixture.client("watcher")
        let running = Task { try await client.run { live.continuation.yield($0) } }
        var events = live.stream.makeAsyncIterator()
        var caughtUp = 0
        while let event = await events.next() {
            if case .caughtUp = event {
                caughtUp += 1
                break
            }
        }
        await fixture.stop()
        try writer.write { try $0.put("stations", key: "st-after", Samples.station("Written during the outage")) }
        try await Task.sleep(for: .milliseconds(300))
        try await fixture.start(port: port)
        try await fixture.sync("writer")
        var received = false
        while let event = await events.next() {
            if case .caughtUp = event { caughtUp += 1 }
            if case .received(let count, _) = event, count > 0,
                try watcher.count("SELECT COUNT(*) FROM stations WHERE id = 'st-after'") == 1
            {
                received = true
                break
            }
        }
        #expect(received)
        #expect(caughtUp >= 1)
        running.cancel()
        await fixture.stop()
    }

    @Test func anUnreachableDaemonFailsTheSyncAndChangesNothing() async throws {
        let fixture = DaemonFixture()
        let device = try fixture.addDevice("device", role: "admin", subject: "ops")
        try device.write { try $0.put("stations", key: "st-1", Samples.station("Offline")) }
        let before = try device.latestSeq()
        await #expect(throws: (any Error).self) {
            try await fixture.client("device", port: 1).sync()
        }
        #expect(try device.latestSeq() == before)
        #expect(try device.changeCount(after: device.cursor(named: "daemon.push")) == 1)
    }
}

@Suite struct BackoffTests {
    @Test func waitsGrowExponentiallyWithJitterUpToTheCap() {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(30))
        var generator = SplitMix64(seed: 1)
        var waits: [Duration] = []
        for _ in 0..<14 { waits.append(backoff.next(using: &generator)) }
        for (attempt, wait) in waits.enumerated() {
            let ceiling = min(Duration.milliseconds(100) * (1 << attempt), .seconds(30))
            #expect(wait <= ceiling && wait >= ceiling / 2, "attempt \(attempt): \(wait)")
        }
        #expect(waits.last! >= .seconds(15))
        // Jitter: devices with different draws do not wait the same.
        var other = Backoff(base: .milliseconds(100), cap: .seconds(30))
        var otherGenerator = SplitMix64(seed: 2)
        let otherWaits = (0..<14).map { _ in other.next(using: &otherGenerator) }
        #expect(otherWaits != waits)
        backoff.reset()
        #expect(backoff.next(using: &generator) <= .milliseconds(100))
    }
}
