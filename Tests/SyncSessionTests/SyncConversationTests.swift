import Foundation
import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

@Suite struct SyncConversationTests {
    /// Two stations and a rider edit offline; one round of syncs brings everyone to the same
    /// values and sibling sets, the concurrent status edit shows as a conflict everywhere, and
    /// every check-in exists exactly once.
    static func offlineScenario() throws -> Network {
        let network = try Network()
        try network.daemonStore.write { transaction in
            try transaction.put("stations", key: "st-1", Samples.station("Haishu Rest"))
            try transaction.put("stations", key: "st-2", Samples.station("Jiangbei Charge"))
        }
        try network.addDevice("station-1", token: "station:st-1", skew: 3_600_000)
        try network.addDevice("station-2", token: "station:st-2", skew: -3_600_000)
        try network.addDevice("admin", token: "admin:ops")
        try network.addDevice("rider", token: "rider:r-7")
        try network.syncAll(rounds: 1)
        // Offline now: a status edit on each side of st-1, check-ins everywhere.
        try network.store("station-1").write { transaction in
            try transaction.put("stations", key: "st-1", ["status": .text("full"), "free_chargers": .integer(0)])
            try transaction.put(
                "checkins", key: "c-s1-1", Samples.checkin(rider: "r-7", station: "st-1", device: "kiosk-1"))
        }
        try network.store("admin").write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        try network.store("station-2").write { transaction in
            try transaction.put(
                "checkins", key: "c-s2-1", Samples.checkin(rider: "r-9", station: "st-2", device: "kiosk-2"))
        }
        try network.store("rider").write { transaction in
            try transaction.put("checkins", key: "c-r-1", Samples.checkin(rider: "r-7", station: "st-2"))
            try transaction.put("checkins", key: "c-r-2", Samples.checkin(rider: "r-7", station: "st-1"))
        }
        return network
    }

    @Test func offlineEditsConvergeWithTheConflictVisibleEverywhere() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let daemon = try network.daemonStore.snapshot()
        #expect(try network.store("admin").snapshot() == daemon)
        for name in ["station-1", "station-2", "rider", "admin"] {
            let store = network.store(name)
            #expect(try store.snapshot(["stations"]) == daemon.filter { $0.key.hasPrefix("stations/") })
            let conflicts = try store.conflicts()
            #expect(conflicts.map(\.field) == ["status"], "\(name)")
            #expect(Set(conflicts.first?.values.map(\.value) ?? []) == [.text("full"), .text("closed")])
            #expect(try store.count("SELECT COUNT(*) FROM _sync_refusals") == 0, "\(name)")
        }
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM checkins") == 4)
        // Scopes: the rider holds exactly its own check-ins; a station those at its station.
        #expect(try network.store("rider").count("SELECT COUNT(*) FROM checkins WHERE rider_id = 'r-7'") == 3)
        #expect(try network.store("rider").count("SELECT COUNT(*) FROM checkins") == 3)
        #expect(try network.store("station-2").count("SELECT COUNT(*) FROM checkins") == 2)
        #expect(try network.store("station-2").count("SELECT COUNT(*) FROM checkins WHERE station_id <> 'st-2'") == 0)

        // One resolve clears it everywhere.
        try network.store("admin").write {
            try $0.resolve("stations", key: "st-1", field: "status", value: .text("open"))
        }
        try network.syncAll(rounds: 2)
        for name in ["station-1", "station-2", "rider", "admin"] {
            #expect(try network.store(name).conflicts().isEmpty, "\(name)")
            #expect(
                try network.store(name).count("SELECT COUNT(*) FROM stations WHERE id = 'st-1' AND status = 'open'")
                    == 1)
        }
    }

    @Test func aNoOpSyncIsOneRoundOfHelloPushlessPull() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let before = try network.store("rider").latestSeq()
        guard case .caughtUp(let report) = try network.sync("rider", batchSize: 100) else {
            Issue.record("no-op sync did not finish")
            return
        }
        #expect(report.sent == 0 && report.received == 0)
        #expect(try network.store("rider").latestSeq() == before)
    }

    /// The link is cut after every possible number of replies; the next sync finishes the job
    /// with nothing lost or duplicated.
    @Test func aCutAtEveryBoundaryResumesWithoutLossOrDuplicates() throws {
        let reference = try Self.offlineScenario()
        try reference.syncAll(rounds: 2)
        let expected = try reference.daemonStore.visibleSnapshot()
        var cutPoint = 1
        while true {
            let network = try Self.offlineScenario()
            var cutsHappened = false
            for name in network.devices.keys.sorted() {
                if case .cut = try network.sync(name, batchSize: 1, cutAfterReplies: cutPoint) { cutsHappened = true }
            }
            try network.syncAll(rounds: 2)
            #expect(try network.daemonStore.visibleSnapshot() == expected, "cut after \(cutPoint) replies")
            #expect(try network.store("admin").snapshot() == network.daemonStore.snapshot(), "cut after \(cutPoint)")
            #expect(try network.daemonStore.count("SELECT COUNT(*) FROM checkins") == 4)
            if !cutsHappened { break }
            cutPoint += 1
        }
        #expect(cutPoint > 5)
    }

    @Test func refusedWritesAreReportedPerRecordAndKeptFlagged() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 1)
        try network.store("rider").write { transaction in
            try transaction.put("checkins", key: "c-forged", Samples.checkin(rider: "r-9", station: "st-1"))
            try transaction.put("stations", key: "st-2", ["status": .text("closed")])
            try transaction.put("checkins", key: "c-mine", Samples.checkin(rider: "r-7", station: "st-1"))
        }
        guard case .caughtUp(let report) = try network.sync("rider") else {
            Issue.record("sync did not finish")
            return
        }
        #expect(report.refused == 2)
        let refusals = try network.store("rider").refusals()
        #expect(refusals.map(\.key).sorted() == ["c-forged", "st-2"])
        #expect(Set(refusals.map(\.code)) == ["forbidden"])
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM checkins WHERE id = 'c-forged'") == 0)
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM checkins WHERE id = 'c-mine'") == 1)
        #expect(
            try network.daemonStore.count("SELECT COUNT(*) FROM stations WHERE id = 'st-2' AND status = 'closed'") == 0)
        // Still on the device, never dropped.
        #expect(try network.store("rider").count("SELECT COUNT(*) FROM checkins WHERE id = 'c-forged'") == 1)
    }

    /// Station 1's meals (9), three check-ins `<keys>-1...3`, then its free chargers (2): the
    /// station record goes up after the check-ins' batch, which carries every lineage entry.
    static func writeStationAroundCheckins(_ store: SyncStore, keys: String) throws {
        try store.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(9)]) }
        for index in 1...3 {
            try store.write {
                try $0.put("checkins", key: "\(keys)-\(index)", Samples.checkin(rider: "r-7", station: "st-1"))
            }
        }
        try store.write { try $0.put("stations", key: "st-1", ["free_chargers": .integer(2)]) }
    }

    @Test func aRestoredDaemonGetsEveryWriteBackAndClientsPullAgain() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        try network.store("rider").write {
            try $0.put("checkins", key: "c-late", Samples.checkin(rider: "r-7", station: "st-2"))
        }
        try network.store("station-1").write { try $0.put("stations", key: "st-1", ["meals_left": .integer(12)]) }
        try network.syncAll(rounds: 2)
        let before = try network.daemonStore.snapshot()

        try network.restoreDaemon(from: backup)
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM checkins WHERE id = 'c-late'") == 0)
        try network.daemonStore.write { try $0.put("stations", key: "st-3", Samples.station("After restore")) }
        try network.syncAll(rounds: 2)
        let after = try network.daemonStore.snapshot()
        for (key, state) in before { #expect(after[key] == state, "\(key)") }
        #expect(try network.store("admin").snapshot() == after)
        #expect(try network.store("rider").count("SELECT COUNT(*) FROM stations WHERE id = 'st-3'") == 1)
    }

    /// A copied store (same replica id) is told apart when the second copy meets the first's
    /// push: it moves its own later writes to a new replica id, and nothing is lost, refused
    /// or duplicated, including the writes the two copies share.
    @Test func aCopiedStoreMovesItsLaterWritesToANewReplicaID() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 1)
        let original = network.store("rider")
        let replica = original.replicaID
        // Written before the copy and not pushed yet: both copies hold this write.
        try original.write {
            try $0.put("checkins", key: "c-shared", Samples.checkin(rider: "r-7", station: "st-1"))
        }
        let counterAtCopy = try original.counter()
        // A clone that escaped detection (a copied disk image): the same replica id.
        let clone = try network.addCopy(of: "rider")
        try original.write {
            try $0.put("checkins", key: "c-from-original", Samples.checkin(rider: "r-7", station: "st-1"))
        }
        try clone.write { try $0.put("checkins", key: "c-from-clone", Samples.checkin(rider: "r-7", station: "st-2")) }
        try network.sync("rider")
        // The same dot, different writes: the clone learns it at hello and renames itself.
        #expect(try original.record("checkins", key: "c-from-original")?.context[replica] == counterAtCopy + 1)
        #expect(try clone.record("checkins", key: "c-from-clone")?.context[replica] == counterAtCopy + 1)
        do {
            _ = try network.sync("clone")
            Issue.record("the clone synced under the original's replica id")
        } catch let error as SessionError {
            #expect(error.code == "replica_diverged")
            #expect(error.renaming?.old == replica)
            #expect(error.renaming?.after == counterAtCopy)
        }
        #expect(clone.replicaID != replica)
        let moved = try #require(try clone.record("checkins", key: "c-from-clone"))
        #expect(moved.context[replica] == counterAtCopy)
        #expect(moved.context[clone.replicaID] == 1)
        guard case .caughtUp(let report) = try network.sync("clone") else {
            Issue.record("sync did not finish")
            return
        }
        #expect(report.refused == 0)
        try network.sync("rider")
        let daemon = network.daemonStore
        for key in ["c-shared", "c-from-original", "c-from-clone"] {
            #expect(try daemon.count("SELECT COUNT(*) FROM checkins WHERE id = '\(key)'") == 1, "\(key)")
            #expect(try daemon.record("checkins", key: key)?.hasConflicts == false)
            #expect(try original.record("checkins", key: key) == daemon.record("checkins", key: key), "\(key)")
            #expect(try clone.record("checkins", key: key) == daemon.record("checkins", key: key), "\(key)")
        }
        // The shared write kept its one dot: no duplicate sibling anywhere.
        let shared = try #require(try daemon.record("checkins", key: "c-shared"))
        #expect(shared.fields.allSatisfy { $0.register.count == 1 && $0.register.values[0].dot.replica == replica })
        #expect(try clone.refusals().isEmpty && original.refusals().isEmpty)
    }

    /// Syncs station-1 expecting `replica_diverged`: it moves its writes after `counter`.
    static func expectOriginalMoves(
        _ network: Network, after counter: Int64, _ otherwise: Comment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        do {
            _ = try network.sync("station-1")
            Issue.record(otherwise, sourceLocation: sourceLocation)
        } catch let error as SessionError {
            #expect(error.code == "replica_diverged", sourceLocation: sourceLocation)
            #expect(error.renaming?.after == counter, sourceLocation: sourceLocation)
        }
    }

    /// Once both copies moved and everyone synced again: st-1 keeps the admin's meals and the
    /// original's, and the copies and the admin hold it as the daemon does.
    static func expectBothMealsKept(_ network: Network, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try network.syncAll(rounds: 3)
        let meals = try #require(
            try network.daemonStore.record("stations", key: "st-1")?.register(of: "meals_left"),
            sourceLocation: sourceLocation)
        #expect(
            Set(meals.values.map(\.value)).isSuperset(of: [.integer(40), .integer(9)]), sourceLocation: sourceLocation)
        let disagreements = try network.disagreements(["station-1", "clone", "admin"], on: ["stations/st-1"])
        #expect(disagreements.isEmpty, "\(disagreements)", sourceLocation: sourceLocation)
    }

    /// The double fault's start: after a round of syncs, a copy of station-1's store writes
    /// st-1's meals (5); the admin pulls it and writes over it (40); the daemon is restored to
    /// before the copy's push, and the admin passes its record along again.
    static func adminOverwroteACopysWriteBeforeARestore() throws -> (
        network: Network, original: SyncStore, clone: SyncStore
    ) {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        let original = network.store("station-1")
        let clone = try network.addCopy(of: "station-1")
        try clone.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(5)]) }
        try network.sync("clone")
        try network.sync("admin")
        try network.store("admin").write { try $0.put("stations", key: "st-1", ["meals_left": .integer(40)]) }
        try network.restoreDaemon(from: backup)
        try network.sync("admin")
        return (network, original, clone)
    }

    /// The double fault: a copy pushed, an admin saw its write and wrote over it, then the
    /// daemon was restored to before the copy's push and the admin's repush brought back
    /// only that it had been seen. The original's own write under the same dot, never sent
    /// before, must not pass for the one the admin saw: the original moves, and its write
    /// stands beside the admin's as a conflict.
    @Test func aRestoredDaemonDoesNotTakeACopysSeenWriteForTheOriginals() throws {
        let (network, original, clone) = try Self.adminOverwroteACopysWriteBeforeARestore()
        let replica = original.replicaID
        #expect(try network.daemonStore.record("stations", key: "st-1")?.context[replica] == clone.counter())
        // The original's write takes the dot the admin saw from the copy.
        try original.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(9)]) }
        #expect(try original.counter() == clone.counter())
        do {
            _ = try network.sync("station-1")
            Issue.record("the original's write went up under a dot the daemon counts as seen")
        } catch let error as SessionError {
            #expect(error.code == "replica_diverged")
        }
        #expect(original.replicaID != replica)
        try network.syncAll(rounds: 2)
        let meals = try #require(try network.daemonStore.record("stations", key: "st-1")?.register(of: "meals_left"))
        #expect(Set(meals.values.map(\.value)) == [.integer(40), .integer(9)])
        for name in ["station-1", "clone", "admin"] {
            #expect(
                try network.store(name).record("stations", key: "st-1")
                    == network.daemonStore.record("stations", key: "st-1"), "\(name)")
        }
    }

    /// As above, with the original's write going up in a later batch than its newer writes'
    /// lineage entries: a write the daemon meets for the first time, after the newest counter
    /// the device had sent before the connection, is still one nobody can have seen.
    @Test func aCopysSeenWriteIsNotTakenForTheOriginalsInALaterBatch() throws {
        let (network, original, clone) = try Self.adminOverwroteACopysWriteBeforeARestore()
        let replica = original.replicaID
        let counterAtCopy = try clone.counter() - 1
        // The original's write under the copy's dot goes up after the check-ins' batch.
        try Self.writeStationAroundCheckins(original, keys: "c-late")
        try Self.expectOriginalMoves(
            network, after: counterAtCopy, "the original's write went up under a dot the daemon counts as seen")
        #expect(original.replicaID != replica)
        try network.sync("station-1")
        let meals = try #require(try network.daemonStore.record("stations", key: "st-1")?.register(of: "meals_left"))
        #expect(Set(meals.values.map(\.value)) == [.integer(40), .integer(9)])
    }

    /// As above, with the original's connection cut after the check-ins' batch: its lineage
    /// entries (newer than the station write) landed with that batch, but the station write
    /// did not. The next connection still sends it as a write never sent before: the device
    /// tells in `hello.sent` which of its writes the daemon accepted, not only its newest tip.
    @Test func aCopysSeenWriteIsNotTakenForTheOriginalsAfterACutPush() throws {
        let (network, original, clone) = try Self.adminOverwroteACopysWriteBeforeARestore()
        let replica = original.replicaID
        let counterAtCopy = try clone.counter() - 1
        try Self.writeStationAroundCheckins(original, keys: "c-cut")
        // Welcome, then the check-ins' batch acknowledged: the station's batch never goes.
        guard case .cut = try network.sync("station-1", cutAfterReplies: 2) else {
            Issue.record("the cut sync finished")
            return
        }
        #expect(try network.daemonStore.record("checkins", key: "c-cut-1") != nil)
        try Self.expectOriginalMoves(
            network, after: counterAtCopy, "the original's write went up under a dot the daemon counts as seen")
        #expect(original.replicaID != replica)
        // The copy meets the original's new lineage and moves too.
        #expect(throws: SessionError.self) { try network.sync("clone") }
        #expect(clone.replicaID != replica)
        try Self.expectBothMealsKept(network)
    }

    /// The daemon's registry keeps each write's timestamp: after a restore, an admin passes a
    /// copy's write along (the registry meets it) and only then writes over it. The
    /// original's own write under that dot, going up after its lineage in a later batch, is
    /// neither held nor new to the registry, but it has another timestamp: a clash, so the
    /// original moves from it instead of losing it.
    @Test func aWriteRegisteredWithAnotherTimestampIsAClashOnceWrittenOver() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        let original = network.store("station-1")
        let admin = network.store("admin")
        let replica = original.replicaID
        let counterAtCopy = try original.counter()
        let clone = try network.addCopy(of: "station-1")
        try clone.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(5)]) }
        try network.sync("clone")
        try network.sync("admin")
        try network.restoreDaemon(from: backup)
        // The admin's status edit carries the copy's meals write back to the daemon.
        try admin.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        try network.sync("admin")
        try admin.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(40)]) }
        try network.sync("admin")
        try Self.writeStationAroundCheckins(original, keys: "c-registered")
        try Self.expectOriginalMoves(
            network, after: counterAtCopy, "the original's write went up under a dot registered with another timestamp")
        #expect(throws: SessionError.self) { try network.sync("clone") }
        #expect(original.replicaID != replica && clone.replicaID != replica)
        try Self.expectBothMealsKept(network)
    }

    /// Writes two copies share (up to where one of them moved to a new id) may have gone up
    /// from either: after a restore, the original's shared write that only the copy had
    /// sent, and that an admin saw and wrote over, is taken as written over, not as a clash.
    @Test func aSharedWriteTheCopySentIsNoClashForTheOriginal() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        let original = network.store("station-1")
        let replica = original.replicaID
        try Self.writeStationAroundCheckins(original, keys: "c-shared")
        let shared = try original.counter()
        let clone = try network.addCopy(of: "station-1")
        // The original's check-ins land with its whole lineage log; the station's batch does not.
        guard case .cut = try network.sync("station-1", cutAfterReplies: 2) else {
            Issue.record("the cut sync finished")
            return
        }
        // The copy meets the original's entries: it moves (nothing of its own after them) and
        // pushes the shared station write, which an admin pulls and writes over.
        #expect(throws: SessionError.self) { try network.sync("clone") }
        #expect(try clone.lastRenaming()?.after == shared)
        try network.sync("clone")
        try network.sync("admin")
        try network.store("admin").write { try $0.put("stations", key: "st-1", ["meals_left": .integer(40)]) }
        try network.sync("admin")
        // Restored, the daemon forgets all that; the copy tells its renaming again (its
        // connection cut after welcome), the admin passes its record along.
        try network.restoreDaemon(from: backup)
        guard case .cut = try network.sync("clone", cutAfterReplies: 1) else {
            Issue.record("the copy's cut sync finished")
            return
        }
        try network.sync("admin")
        // The original never sent the station write, yet the copy did: the admin saw it.
        try network.sync("station-1")
        #expect(original.replicaID == replica)
        let meals = try #require(try network.daemonStore.record("stations", key: "st-1")?.register(of: "meals_left"))
        #expect(meals.values.map(\.value) == [.integer(40)])
        try network.syncAll(rounds: 2)
        let disagreements = try network.disagreements(["station-1", "clone", "admin"], on: ["stations/st-1"])
        #expect(disagreements.isEmpty, "\(disagreements)")
    }

    /// The double fault with the original's push split in batches: an admin wrote beside a
    /// copy's status write and passed it along after a restore; the original's own write under that dot (another
    /// field, another moment) goes up after newer writes of its have landed. The daemon names
    /// the clashing write, so the original moves every write from it on, not only those after
    /// what landed; the copy moves too, and both writes stand, each once.
    @Test func aClashMetInALaterBatchMovesTheOriginalFromTheClashingWrite() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        let original = network.store("station-1")
        let replica = original.replicaID
        let counterAtCopy = try original.counter()
        // A minute past the original's clock: the copy's writes have other timestamps.
        let clone = try network.addCopy(of: "station-1", clock: ManualClock(millis: 1_764_000_000_000 + 3_660_000))
        try clone.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        try network.sync("clone")
        try network.sync("admin")
        try network.store("admin").write { try $0.put("stations", key: "st-1", ["meals_left": .integer(40)]) }
        try network.restoreDaemon(from: backup)
        try network.sync("admin")
        #expect(try network.daemonStore.record("stations", key: "st-1")?.context[replica] == clone.counter())
        // The original's write under the copy's dot goes up after the check-ins' batch landed.
        try Self.writeStationAroundCheckins(original, keys: "c-after")
        try Self.expectOriginalMoves(
            network, after: counterAtCopy, "the original's write went up under a dot the copy used")
        #expect(try original.renamings().first?.after == counterAtCopy)
        #expect(throws: SessionError.self) { try network.sync("clone") }
        #expect(clone.replicaID != replica)
        #expect(try clone.lastRenaming()?.after == counterAtCopy)
        try network.syncAll(rounds: 3)
        let daemon = network.daemonStore
        let station = try #require(try daemon.record("stations", key: "st-1"))
        #expect(station.register(of: "status")?.values.map(\.value) == [.text("closed")])
        #expect(Set(station.register(of: "meals_left")?.values.map(\.value) ?? []) == [.integer(9), .integer(40)])
        #expect(station.register(of: "free_chargers")?.values.map(\.value) == [.integer(2)])
        for index in 1...3 {
            let checkin = try #require(try daemon.record("checkins", key: "c-after-\(index)"))
            #expect(checkin.fields.allSatisfy { $0.register.count == 1 }, "c-after-\(index)")
        }
        #expect(try network.store("admin").snapshot() == daemon.snapshot())
        let disagreements = try network.disagreements(
            ["station-1", "clone", "admin"],
            on: ["stations/st-1", "checkins/c-after-1", "checkins/c-after-2", "checkins/c-after-3"])
        #expect(disagreements.isEmpty, "\(disagreements)")
    }

    /// The double fault the other way round: the original's write, never sent before, lands
    /// first under the dot a copy used; then an admin who pulled the copy's write before the
    /// restore and wrote over it passes its record along. The admin cannot have seen the
    /// original's write (it arrived after where the admin had pulled): its record is refused
    /// as a clash instead of writing over it. The original moves from that write on, the
    /// copy moves too, and every write stands.
    @Test func anOverwriteOfACopysWriteDoesNotCoverTheOriginalsLaterWrite() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        let original = network.store("station-1")
        let admin = network.store("admin")
        let replica = original.replicaID
        let counterAtCopy = try original.counter()
        // A minute past the original's clock: the copy's writes have other timestamps.
        let clone = try network.addCopy(of: "station-1", clock: ManualClock(millis: 1_764_000_000_000 + 3_660_000))
        try clone.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(5)]) }
        try network.sync("clone")
        try network.sync("admin")
        try admin.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(40)]) }
        try network.restoreDaemon(from: backup)
        try original.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(9)]) }
        #expect(try original.counter() == clone.counter())
        try network.sync("station-1")
        guard case .caughtUp(let report) = try network.sync("admin") else {
            Issue.record("the admin's sync did not finish")
            return
        }
        #expect(report.refused == 1)
        #expect(try admin.refusals().map(\.code) == ["replica_clash"])
        let daemon = network.daemonStore
        #expect(
            try daemon.record("stations", key: "st-1")?.register(of: "meals_left")?.values.map(\.value) == [.integer(9)]
        )
        // The original's next push meets the clash and moves from the clashing write on.
        try original.write { try $0.put("stations", key: "st-1", ["free_chargers": .integer(3)]) }
        try Self.expectOriginalMoves(
            network, after: counterAtCopy, "the original pushed on under a replica id caught clashing")
        #expect(throws: SessionError.self) { try network.sync("clone") }
        #expect(original.replicaID != replica && clone.replicaID != replica)
        try Self.expectBothMealsKept(network)
    }

    /// The other double fault: an admin pulled a copy's check-in, the daemon was restored to
    /// before it, and the original's own write took the dot. The copy moves its writes; the
    /// admin, told of the renaming, moves its copy of the check-in too: one value, one dot,
    /// the same record everywhere.
    @Test func aDeviceThatTookInACopysWritesMovesThemWithTheCopy() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        let original = network.store("rider")
        let clone = try network.addCopy(of: "rider")
        try clone.write { try $0.put("checkins", key: "c-clone", Samples.checkin(rider: "r-7", station: "st-1")) }
        try network.sync("clone")
        try network.sync("admin")
        let admin = network.store("admin")
        let seen = try #require(try admin.record("checkins", key: "c-clone"))
        try network.restoreDaemon(from: backup)
        try original.write { try $0.put("checkins", key: "c-original", Samples.checkin(rider: "r-7", station: "st-2")) }
        try network.sync("rider")
        #expect(throws: SessionError.self) { try network.sync("clone") }
        let renaming = try #require(try clone.lastRenaming())
        #expect(renaming.moves(seen))
        try network.syncAll(rounds: 2)
        let daemon = network.daemonStore
        let held = try #require(try daemon.record("checkins", key: "c-clone"))
        #expect(held == renaming.renamed(seen))
        #expect(held.fields.allSatisfy { $0.register.count == 1 })
        #expect(try admin.snapshot() == daemon.snapshot())
        let disagreements = try network.disagreements(
            ["admin", "clone", "rider"], on: ["checkins/c-clone", "checkins/c-original"])
        #expect(disagreements.isEmpty, "\(disagreements)")
        #expect(try admin.renamings() == [renaming])
    }

    /// A device that took in the original's write before the original moved it edits the
    /// record and pushes it with the old dot: the daemon moves the write in what it takes, and
    /// the device's next pull brings the moved record back (it is no echo of what was sent).
    @Test func aRecordMovedOnItsWayInComesBackToItsSender() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 2)
        let backup = try network.backupDaemon()
        let original = network.store("station-1")
        let admin = network.store("admin")
        let clone = try network.addCopy(of: "station-1")
        try original.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(9)]) }
        try network.sync("station-1")
        try network.sync("admin")
        // Restored: the copy's write takes the lineage, and the original moves its write.
        try network.restoreDaemon(from: backup)
        try clone.write { try $0.put("checkins", key: "c-copy", Samples.checkin(rider: "r-7", station: "st-1")) }
        try network.sync("clone")
        #expect(throws: SessionError.self) { try network.sync("station-1") }
        let renaming = try #require(try original.lastRenaming())
        try network.sync("station-1")
        try admin.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        let pushed = try #require(try admin.record("stations", key: "st-1"))
        #expect(pushed.context[renaming.old] > renaming.after)
        try network.sync("admin")
        let held = try #require(try network.daemonStore.record("stations", key: "st-1"))
        #expect(held.register(of: "meals_left")?.values.map(\.dot.replica) == [renaming.new])
        #expect(try admin.record("stations", key: "st-1") == held)
    }

    /// A renaming moves writes at every device: the daemon takes one only for replica ids of
    /// the principal that says it made it.
    @Test func aDeviceCannotRenameAnotherPrincipalsWrites() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 1)
        let station = network.store("station-1").replicaID
        let rider = network.store("rider").replicaID
        let claims = [
            ReplicaRenaming(old: station, new: rider, after: 0),
            ReplicaRenaming(old: rider, new: ReplicaID(unchecked: "rider-moved"), after: 1, through: 3),
        ]
        let output = network.daemonSession().handle(
            .hello(
                .init(
                    id: .integer(1), protocolVersion: 2, replica: rider, token: "rider:r-7", cursor: nil,
                    renamings: claims)))
        guard case .welcome(let welcome) = output.messages.first else {
            Issue.record("no welcome: \(output.messages)")
            return
        }
        #expect(welcome.renamings == [claims[1]])
        #expect(try network.daemonStore.renamings() == [claims[1]])
    }

    /// Two conversations of one store at once (an agent and a one-off sync): when one pushes
    /// during the other, the other stops without renaming anything, and its next try goes
    /// through. A push by a real copy would have moved the writes.
    @Test func anotherConversationOfTheSameStoreIsNoCopy() throws {
        let network = try Self.offlineScenario()
        try network.syncAll(rounds: 1)
        let kiosk = network.store("station-1")
        let replica = kiosk.replicaID
        func conversation() -> ClientSession {
            ClientSession(store: kiosk, configuration: .init(token: "station:st-1", batchSize: 3))
        }
        // The first conversation says hello, then waits.
        let first = conversation()
        let firstDaemon = network.daemonSession()
        guard case .send(let hello) = try first.start().first else {
            Issue.record("no hello")
            return
        }
        var replies = firstDaemon.handle(hello).messages
        // Meanwhile a second conversation of the same store pushes a new check-in.
        try kiosk.write { try $0.put("checkins", key: "c-meanwhile", Samples.checkin(rider: "r-7", station: "st-1")) }
        guard case .caughtUp = try SessionPump.sync(client: conversation(), daemon: network.daemonSession()) else {
            Issue.record("the second conversation did not finish")
            return
        }
        try kiosk.write { try $0.put("checkins", key: "c-later", Samples.checkin(rider: "r-7", station: "st-1")) }
        // The first one goes on: its push meets the second's lineage entry.
        var failure: SessionError?
        pumping: while !replies.isEmpty {
            let reply = replies.removeFirst()
            do {
                for event in try first.receive(reply) + first.finishPendingWork() {
                    if case .send(let message) = event { replies += firstDaemon.handle(message).messages }
                    if case .caughtUp = event { break pumping }
                }
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.code == SessionError.concurrentPush)
        #expect(failure?.renaming == nil)
        #expect(kiosk.replicaID == replica)
        #expect(try kiosk.lastRenaming() == nil)
        guard case .caughtUp(let report) = try network.sync("station-1") else {
            Issue.record("the next conversation did not finish")
            return
        }
        #expect(report.refused == 0)
        for key in ["c-meanwhile", "c-later"] {
            #expect(try network.daemonStore.record("checkins", key: key) == kiosk.record("checkins", key: key))
        }
    }

    /// A pull leaves out what the same connection just pushed when the daemon holds exactly
    /// that; a merged (conflicting) push comes back, and a new connection gets everything.
    @Test func aPullLeavesOutTheConnectionsOwnPushesButNotMergedOnes() throws {
        let network = try Self.offlineScenario()
        let kiosk = network.store("station-1")
        let pending = try kiosk.changes(after: 0, limit: 100).changes.map(\.record)
        #expect(Set(pending.map(\.key)) == ["st-1", "st-2", "c-s1-1"])
        // The admin's concurrent status edit reaches the daemon first.
        try network.sync("admin")
        let before = try network.daemonStore.latestSeq()
        func hello(_ session: DaemonSession) {
            let welcome = session.handle(
                .hello(
                    .init(
                        id: .integer(1), protocolVersion: 2, replica: kiosk.replicaID, token: "station:st-1",
                        cursor: nil)))
            #expect(welcome.messages.count == 1)
        }
        func pulledKeys(_ session: DaemonSession) -> [String] {
            let reply = session.handle(.pull(id: .integer(3), cursor: before, limit: nil))
            guard case .changes(_, let records, _, _, _) = reply.messages.first else { return [] }
            return records.map(\.key)
        }
        let session = network.daemonSession()
        hello(session)
        let pushed = session.handle(.push(id: .integer(2), records: pending))
        guard case .pushed(let result) = pushed.messages.first else {
            Issue.record("no pushed reply: \(pushed.messages)")
            return
        }
        #expect(result.refused.isEmpty)
        // st-2 and the check-in are held exactly as pushed: left out. st-1 merged with the
        // admin's edit into a conflict: it comes back.
        #expect(pulledKeys(session) == ["st-1"])
        let another = network.daemonSession()
        hello(another)
        #expect(Set(pulledKeys(another)) == ["st-1", "c-s1-1"])
    }

    /// A pull answered from a batch read ahead gives what that read saw; a write that lands
    /// between the read and the pull comes with a later pull, and a read ahead for another
    /// cursor is not used.
    @Test func aBatchReadAheadAnswersOnlyItsPullAndLosesNothing() throws {
        let network = try Network()
        try network.daemonStore.write { transaction in
            for index in 0..<5 { try transaction.put("stations", key: "st-\(index)", Samples.station("Stop \(index)")) }
        }
        let session = network.daemonSession()
        _ = session.handle(
            .hello(
                .init(
                    id: .integer(1), protocolVersion: 2, replica: ReplicaID(unchecked: "auditor"), token: "admin:ops",
                    cursor: nil)))
        var output = session.handle(.pull(id: .integer(2), cursor: 0, limit: 2))
        guard case .changes(_, let first, let cursor, true, _) = output.messages.first, let ahead = output.readAhead
        else {
            Issue.record("a batch with more to come offers a read ahead: \(output)")
            return
        }
        let batch = ahead.read()
        // Another device writes after the read ahead and before the pull.
        try network.daemonStore.write { try $0.put("stations", key: "st-new", Samples.station("New")) }
        // A pull from elsewhere does not take the batch read for `cursor`.
        output = session.handle(.pull(id: .integer(3), cursor: 0, limit: 2), readAhead: batch)
        guard case .changes(_, let again, _, _, _) = output.messages.first else { return }
        #expect(again.map(\.key) == first.map(\.key))
        var keys = first.map(\.key)
        var next: (cursor: Int64, ahead: ReadAhead.Batch?) = (cursor, batch)
        var pulls = 0
        while pulls < 10 {
            pulls += 1
            output = session.handle(.pull(id: .integer(4), cursor: next.cursor, limit: 2), readAhead: next.ahead)
            guard case .changes(_, let records, let after, let more, _) = output.messages.first else { return }
            keys += records.map(\.key)
            next = (after, output.readAhead?.read())
            if !more { break }
        }
        #expect(keys == ["st-0", "st-1", "st-2", "st-3", "st-4", "st-new"])
    }

    /// Batches are cut by length as well as by count: long appeals go up and come down in
    /// lines that fit the daemon's limit, and every one arrives.
    @Test func longRecordsTravelInLinesThatFitTheLimit() throws {
        let network = try Network()
        let rider = try network.addDevice("rider", token: "rider:r-7")
        let reader = try network.addDevice("reader", token: "staff:hotline-2")
        let text = String(repeating: "工资拖欠 \"unpaid\" wages; ", count: 160)
        try rider.write { transaction in
            for index in 0..<40 {
                try transaction.put(
                    "appeals", key: "ap-\(index)",
                    ["rider_id": .text("r-7"), "category": .text("wages"), "text": .text(text)])
            }
        }
        let limit = 64 * 1024
        // Without the cut, a batch of 40 such appeals is a line several times the limit.
        #expect(
            ClientMessage.push(id: .integer(1), records: try rider.changes(after: 0, limit: 40).changes.map(\.record))
                .line().count > 3 * limit)
        let pushed = try network.sync("rider", batchSize: 50, maximumLine: limit)
        guard case .caughtUp(let report) = pushed else {
            Issue.record("the rider did not catch up: \(pushed)")
            return
        }
        #expect(report.sent == 40 && report.refused == 0)
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM appeals") == 40)
        try network.sync("reader", batchSize: 50, maximumLine: limit)
        #expect(try reader.count("SELECT COUNT(*) FROM appeals") == 40)
        #expect(try reader.snapshot(["appeals"]) == network.daemonStore.snapshot(["appeals"]))
    }

    /// A record whose push alone is longer than the daemon's limit (a long appeal, a daemon
    /// run with `--max-line 1024`) stays on the device, flagged, and everything else still
    /// goes up: the device is not stuck resending a line the daemon refuses.
    @Test func aRecordLongerThanTheLimitIsFlaggedAndTheRestSyncs() throws {
        let network = try Network()
        let rider = try network.addDevice("rider", token: "rider:r-7")
        try rider.write { transaction in
            try transaction.put("checkins", key: "ci-1", Samples.checkin(rider: "r-7", station: "st-0"))
            try transaction.put(
                "appeals", key: "ap-long",
                [
                    "rider_id": .text("r-7"), "category": .text("wages"),
                    "text": .text(String(repeating: "欠薪", count: 500)),
                ])
            try transaction.put("checkins", key: "ci-2", Samples.checkin(rider: "r-7", station: "st-1"))
        }
        let limit = 1_024
        let outcome = try network.sync("rider", batchSize: 50, maximumLine: limit)
        guard case .caughtUp(let report) = outcome else {
            Issue.record("the rider did not catch up: \(outcome)")
            return
        }
        #expect(report.refused == 1)
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM checkins") == 2)
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM appeals") == 0)
        let flags = try rider.refusals()
        #expect(flags.map(\.key) == ["ap-long"] && flags.first?.code == "line_too_long")
        #expect(try rider.count("SELECT COUNT(*) FROM appeals") == 1)
        // A later sync does not send it again, and the flag stays until it fits.
        guard case .caughtUp(let again) = try network.sync("rider", batchSize: 50, maximumLine: limit) else {
            Issue.record("the second sync did not catch up")
            return
        }
        #expect(again.sent == 0 && again.refused == 0)
        #expect(try rider.refusals().map(\.key) == ["ap-long"])
        // Under a daemon with room for it, an edit sends it and clears the flag.
        try rider.write { try $0.put("appeals", key: "ap-long", ["satisfaction": .integer(2)]) }
        guard case .caughtUp(let roomy) = try network.sync("rider", batchSize: 50) else {
            Issue.record("the sync under the default limit did not catch up")
            return
        }
        #expect(roomy.sent == 1 && roomy.refused == 0)
        #expect(try rider.refusals().isEmpty)
        #expect(try network.daemonStore.count("SELECT COUNT(*) FROM appeals") == 1)
    }
}
