import Foundation
import GRDB
import SyncCore
import SyncStore
import SyncTesting
import Synchronization
import Testing
import YongaiDomain

@Suite struct MergeTests {
    @Test(arguments: StoreKind.allCases) func twoStoresConvergeAndMergeIsIdempotent(kind: StoreKind) throws {
        let one = try StoreFixture(kind)
        let two = try StoreFixture(kind)
        try one.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try two.store.write { transaction in
            try transaction.put("checkins", key: "c-1", Samples.checkin())
            try transaction.put("checkins", key: "c-2", Samples.checkin(rider: "rider-2"))
        }
        let first = try two.store.pull(from: one.store)
        #expect(first.new == 1 && first.changed == 0 && first.unchanged == 0)
        let seqAfterFirst = try two.store.latestSeq()
        let again = try two.store.pull(from: one.store)
        #expect(again.new == 0 && again.changed == 0 && again.unchanged == 1)
        #expect(try two.store.latestSeq() == seqAfterFirst)

        try one.store.pull(from: two.store)
        for collection in ["stations", "checkins"] {
            for store in [one.store, two.store] {
                #expect(try store.count(collection) == (collection == "stations" ? 1 : 2))
            }
        }
        #expect(try one.store.record("stations", key: "st-1") == two.store.record("stations", key: "st-1"))
        #expect(try one.store.record("checkins", key: "c-2") == two.store.record("checkins", key: "c-2"))
    }

    /// A batch merge (new records go in 16 rows per statement) ends exactly where merging
    /// the same states one call at a time does, whatever the target already holds: states,
    /// rows, conflicts and the count of changes.
    @Test func aBatchMergeEndsWhereOneByOneMergesDo() throws {
        let first = try StoreFixture(.inMemory)
        let second = try StoreFixture(.inMemory)
        try first.store.write { transaction in
            for index in 0..<40 {
                try transaction.put("stations", key: "st-\(index)", Samples.station("Stop \(index)"))
            }
            for index in 0..<21 { try transaction.put("checkins", key: "c-\(index)", Samples.checkin()) }
        }
        _ = try second.store.pull(from: first.store)
        // Concurrent edits of a few stations: their states arrive as conflicts.
        try first.store.write { transaction in
            for index in 0..<5 { try transaction.put("stations", key: "st-\(index)", ["status": .text("closed")]) }
        }
        try second.store.write { transaction in
            for index in 0..<5 { try transaction.put("stations", key: "st-\(index)", ["status": .text("full")]) }
            try transaction.delete("stations", key: "st-39")
        }
        let incoming = try first.store.allChanges().map(\.record) + second.store.allChanges().map(\.record)
        for held in [0, 3, 17, 40] {
            let batched = try StoreFixture(.inMemory)
            let oneByOne = try StoreFixture(.inMemory)
            for target in [batched, oneByOne] {
                try target.store.merge(Array(first.store.allChanges().map(\.record).prefix(held)))
            }
            let summary = try batched.store.merge(incoming)
            var single = MergeSummary()
            for record in incoming {
                let part = try oneByOne.store.merge([record])
                single.new += part.new
                single.changed += part.changed
                single.unchanged += part.unchanged
                single.conflicts += part.conflicts
            }
            #expect(summary.new == single.new && summary.changed == single.changed, "held \(held)")
            #expect(summary.unchanged == single.unchanged && summary.conflicts == single.conflicts, "held \(held)")
            #expect(summary.clashes.isEmpty)
            let batchedStates = try batched.store.allChanges().map { "\($0.collection)/\($0.key)=\($0.state)" }
            let singleStates = try oneByOne.store.allChanges().map { "\($0.collection)/\($0.key)=\($0.state)" }
            #expect(batchedStates.sorted() == singleStates.sorted(), "held \(held)")
            #expect(try batched.store.latestSeq() == oneByOne.store.latestSeq(), "held \(held)")
            #expect(try batched.store.count("stations") == 39)
            #expect(try batched.store.conflicts().count == oneByOne.store.conflicts().count)
            #expect(try batched.store.conflicts().count == 5)
            // Merging it all again changes nothing.
            let again = try batched.store.merge(incoming)
            #expect(again.new == 0 && again.changed == 0, "held \(held)")
        }
        // States that arrive already in conflict go in blind and are listed as conflicts.
        let conflicted = try StoreFixture(.inMemory)
        try conflicted.store.merge(incoming)
        let fresh = try StoreFixture(.inMemory)
        let summary = try fresh.store.merge(try conflicted.store.allChanges().map(\.record))
        #expect(summary.new == 61 && summary.conflicts == 5)
        #expect(try fresh.store.conflicts().map(\.key).sorted() == conflicted.store.conflicts().map(\.key).sorted())
        #expect(try fresh.store.allChanges().map(\.state) == conflicted.store.allChanges().map(\.state))
    }

    @Test func concurrentStatusEditsBecomeAConflictResolvedByOneWrite() throws {
        let station = try StoreFixture(clock: ManualClock(millis: 1_000_000))
        let admin = try StoreFixture(clock: ManualClock(millis: 2_000_000))
        try station.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try admin.store.pull(from: station.store)
        try station.store.write {
            try $0.put("stations", key: "st-1", ["status": .text("full"), "meals_left": .integer(3)])
        }
        try admin.store.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }

        let summary = try station.store.pull(from: admin.store)
        #expect(summary.changed == 1 && summary.conflicts == 1)
        try admin.store.pull(from: station.store)
        for store in [station.store, admin.store] {
            let conflicts = try store.conflicts()
            #expect(conflicts.count == 1)
            let conflict = try #require(conflicts.first)
            #expect(conflict.collection == "stations" && conflict.key == "st-1" && conflict.field == "status")
            #expect(Set(conflict.values.map(\.value)) == [.text("full"), .text("closed")])
            // The admin's clock is ahead: its write is the visible winner everywhere.
            #expect(conflict.winner.value == .text("closed"))
            #expect(try store.row("SELECT status, meals_left FROM stations")?["status"] == "closed")
            // The edit of another field merged cleanly.
            #expect(try store.row("SELECT meals_left FROM stations")?["meals_left"] == 3)
        }

        try station.store.write { try $0.resolve("stations", key: "st-1", field: "status", value: .text("open")) }
        #expect(try station.store.conflicts().isEmpty)
        try admin.store.pull(from: station.store)
        #expect(try admin.store.conflicts().isEmpty)
        #expect(try admin.store.row("SELECT status FROM stations")?["status"] == "open")
        #expect(try admin.store.count("_sync_conflicts") == 0)
    }

    @Test func aRemoteDeleteMovesTheRowAndAConcurrentEditKeepsItVisibleAsAConflict() throws {
        let station = try StoreFixture(clock: ManualClock(millis: 2_000_000))
        let admin = try StoreFixture(clock: ManualClock(millis: 1_000_000))
        try admin.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try station.store.pull(from: admin.store)
        try admin.store.write { try $0.delete("stations", key: "st-1") }
        try station.store.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
        try station.store.pull(from: admin.store)
        try admin.store.pull(from: station.store)
        for store in [station.store, admin.store] {
            // The station's edit has the larger HLC: the record stays visible, the delete is listed.
            #expect(try store.count("stations") == 1)
            #expect(try store.conflicts().map(\.field) == ["_deleted"])
        }
        try admin.store.write { try $0.resolve("stations", key: "st-1", field: "_deleted", value: .bool(true)) }
        try station.store.pull(from: admin.store)
        #expect(try station.store.count("stations") == 0)
        #expect(try station.store.conflicts().isEmpty)
    }

    /// A record made by one write merges into the same rows, blobs and sequence numbers
    /// whether it arrives as a single write (no state built) or as its whole state.
    @Test func aSingleWriteMergesLikeItsWholeState() throws {
        let source = try StoreFixture(.inMemory)
        try source.store.write { transaction in
            // Stations of a few kinds, interleaved: each kind sets its own fields.
            for index in 0..<40 {
                var values = Samples.station("Stop \(index)")
                switch index % 3 {
                case 1: values["free_chargers"] = nil
                case 2:
                    values["district"] = nil
                    values["meals_left"] = .integer(Int64(index))
                default: break
                }
                try transaction.put("stations", key: "st-\(index)", values)
            }
            for index in 0..<21 { try transaction.put("checkins", key: "c-\(index)", Samples.checkin()) }
            try transaction.put("stations", key: "st-3", ["status": .text("closed")])
        }
        let records = try source.store.allChanges().map(\.record)
        let singles = records.filter { if case .singleWrite = $0.body { true } else { false } }
        #expect(singles.count == 60, "every record written once reads as a single write")
        let whole = records.map { KeyedRecord(collection: $0.collection, key: $0.key, state: $0.state) }
        #expect(whole == records)
        func rows(_ fixture: StoreFixture) throws -> [String] {
            try fixture.store.read { db in
                try ["stations", "checkins"].flatMap { table in
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY _sync_seq").map(\.description)
                }
            }
        }
        for held in [0, 5, 33] {
            let viaSingle = try StoreFixture(.inMemory)
            let viaWhole = try StoreFixture(.inMemory)
            try viaSingle.store.merge(Array(whole.prefix(held)))
            try viaWhole.store.merge(Array(whole.prefix(held)))
            let one = try viaSingle.store.merge(records)
            let other = try viaWhole.store.merge(whole)
            #expect(one.new == other.new && one.unchanged == other.unchanged && one.echoes == other.echoes)
            #expect(try rows(viaSingle) == rows(viaWhole), "held \(held)")
            #expect(try rows(viaSingle).count == 61)
        }
        // A single write with an unknown field or a mistyped value is refused like a state.
        let write = try #require(records.first?.singleWrite)
        let cases: [(SingleWrite, String)] = [
            (
                try SingleWrite(
                    dot: write.dot, timestamp: write.timestamp, validatingNames: write.names + ["zzz"],
                    values: write.values + [.integer(1)]), "unknown_field"
            ),
            (
                try SingleWrite(
                    dot: write.dot, timestamp: write.timestamp, validatingNames: ["status"], values: [.text("exploded")]
                ),
                "invalid_value"
            ),
        ]
        let target = try StoreFixture(.inMemory)
        for (bad, code) in cases {
            let error = #expect(throws: StoreError.self) {
                try target.store.merge([records[1], KeyedRecord(collection: "stations", key: "st-x", singleWrite: bad)])
            }
            #expect(error?.code.rawValue == code)
        }
        #expect(try target.store.latestSeq() == 0)
    }

    @Test func invalidRemoteRecordsFailTheBatchAndChangeNothing() throws {
        let source = try StoreFixture()
        let target = try StoreFixture()
        try source.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        let good = try source.store.allChanges()[0].record
        var bad = RecordState()
        bad.put(
            [("status", .text("exploded"))], dot: Dot(replica: ReplicaID(unchecked: "x"), counter: 1),
            timestamp: HybridTimestamp(wallMillis: 1, logical: 0))
        let cases: [(KeyedRecord, String)] = [
            (KeyedRecord(collection: "stations", key: "st-2", state: bad), "invalid_value"),
            (KeyedRecord(collection: "parking", key: "p", state: good.state), "unknown_collection"),
            (KeyedRecord(collection: "stations", key: "", state: good.state), "invalid_key"),
        ]
        for (record, code) in cases {
            let error = #expect(throws: StoreError.self) {
                try target.store.merge([good, record], cursor: (name: "peer", value: 10))
            }
            #expect(error?.code.rawValue == code)
        }
        #expect(try target.store.latestSeq() == 0)
        #expect(try target.store.cursor(named: "peer") == 0)
        #expect(try target.store.count("stations") == 0)
    }

    @Test func theCursorIsSavedWithTheBatch() throws {
        let source = try StoreFixture()
        let target = try StoreFixture()
        try source.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try target.store.merge(source.store.allChanges().map(\.record), cursor: (name: "daemon.pull", value: 1))
        #expect(try target.store.cursor(named: "daemon.pull") == 1)
    }

    @Test func aClonedReplicaIDIsDetectedWhenItsWritesMeet() throws {
        let original = try StoreFixture()
        try original.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        // A copy that escaped detection (a cloned disk image): same replica id and counter.
        let clone = try original.store.copy()
        #expect(clone.replicaID == original.store.replicaID)
        try original.store.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
        try clone.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        let summary = try original.store.pull(from: clone)
        #expect(summary.clashes.count == 1)
        #expect(summary.clashes.first?.error.code == .replicaClash)
        #expect(try original.store.row("SELECT status FROM stations")?["status"] == "full")
    }

    /// Two copies of one store number their writes alike; their timestamps must still differ,
    /// or a copy's write could pass for the other's. The copy's clock leaps at its first
    /// write, and each new millisecond starts its logical counter at random.
    @Test(arguments: [false, true])
    func copiesStampTheirWritesApart(wallClockMoves: Bool) throws {
        func seeded(_ seed: UInt64) -> StoreOptions {
            var options = StoreOptions()
            let generator = Mutex(SplitMix64(seed: seed))
            options.random = { generator.withLock { $0.next() } }
            return options
        }
        let clock = ManualClock(millis: 1_764_000_000_000)
        let original = try SyncStore(.inMemory, schema: YongaiCollections.schema, clock: clock, options: seeded(1))
        try original.write { try $0.put("stations", key: "st-1", Samples.station()) }
        let copy = try original.copy(clock: clock, options: seeded(2))
        var stamps: [[Dot: HybridTimestamp]] = [[:], [:]]
        for _ in 0..<20 {
            if wallClockMoves { clock.advance(by: 1) }
            for (index, store) in [original, copy].enumerated() {
                try store.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(3)]) }
                let meals = try store.record("stations", key: "st-1")?.register(of: "meals_left")
                let value = try #require(meals?.values.first)
                stamps[index][value.dot] = value.timestamp
            }
        }
        #expect(stamps[0].count == 20 && Set(stamps[0].keys) == Set(stamps[1].keys))
        for (dot, timestamp) in stamps[0] {
            #expect(stamps[1][dot] != timestamp, "\(dot)")
        }
    }

    @Test func ownWritesComingBackRaiseTheCounterSoItIsNeverReused() throws {
        let directory = TemporaryDirectory("restored")
        defer { directory.remove() }
        let path = directory.file("device.sqlite")
        let daemon = try StoreFixture()
        // A backup of the device's empty store, restored in place later.
        do { _ = try SyncStore(.file(path), schema: YongaiCollections.schema) }
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: directory.file("backup") + suffix)
        }
        do {
            let device = try SyncStore(.file(path), schema: YongaiCollections.schema)
            try device.write { try $0.put("stations", key: "st-1", Samples.station()) }
            try device.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
            try daemon.store.pull(from: device)
            try device.close()
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: directory.file("backup") + suffix) {
            try FileManager.default.copyItem(atPath: directory.file("backup") + suffix, toPath: path + suffix)
        }
        // Restored in place: the same device, the same replica id, its counter back at 0.
        let restored = try SyncStore(.file(path), schema: YongaiCollections.schema)
        #expect(try restored.counter() == 0)
        try restored.pull(from: daemon.store)
        #expect(try restored.counter() == 2)
        try restored.write { try $0.put("stations", key: "st-1", ["status": .text("open")]) }
        #expect(try restored.counter() == 3)
        try daemon.store.pull(from: restored)
        #expect(try daemon.store.row("SELECT status FROM stations")?["status"] == "open")
        #expect(try daemon.store.conflicts().isEmpty)
    }

    @Test func aForkIsANewReplicaHoldingTheSameData() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try fixture.store.setCursor("daemon.pull", to: 1)
        let fork = try fixture.store.fork()
        #expect(fork.replicaID != fixture.store.replicaID)
        #expect(try fork.allChanges() == fixture.store.allChanges())
        #expect(try fork.cursor(named: "daemon.pull") == 1)
        #expect(try fork.counter() == 0)
        // Both write after the fork: the writes are concurrent siblings, never one dot twice.
        try fork.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
        try fixture.store.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        let summary = try fixture.store.pull(from: fork)
        #expect(summary.clashes.isEmpty)
        let merged = try #require(try fixture.store.record("stations", key: "st-1"))
        #expect(merged.register(of: "status")?.values.count == 2)
        // A plain copy keeps the id: the same writes would clash.
        let copy = try fixture.store.copy()
        try copy.write { try $0.put("stations", key: "st-1", ["status": .text("open")]) }
        let sibling = try fixture.store.copy()
        try sibling.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
        #expect(try sibling.pull(from: copy).clashes.count == 1)
    }

    /// A store file copied to another place takes a replica id of its own: the copy and the
    /// original then write side by side without ever clashing.
    @Test func aCopiedStoreFileTakesItsOwnReplicaID() throws {
        let original = try StoreFixture()
        try original.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        let directory = TemporaryDirectory("copy")
        defer { directory.remove() }
        try original.copyFiles(to: directory.file("copy.sqlite"))
        let copy = try SyncStore(.file(directory.file("copy.sqlite")), schema: YongaiCollections.schema)
        #expect(copy.replicaID != original.store.replicaID)
        #expect(try copy.counter() == 0)
        #expect(try copy.setting(named: "store.forked_from") == original.store.replicaID.rawValue)
        // Reopening at the same place keeps the id.
        #expect(
            try SyncStore(.file(directory.file("copy.sqlite")), schema: YongaiCollections.schema).replicaID
                == copy.replicaID)
        #expect(try original.reopen().replicaID == original.store.replicaID)

        try original.store.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
        try copy.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(7)]) }
        let daemon = try StoreFixture()
        #expect(try daemon.store.pull(from: original.store).clashes.isEmpty)
        #expect(try daemon.store.pull(from: copy).clashes.isEmpty)
        let row = try #require(try daemon.store.row("SELECT status, meals_left FROM stations"))
        #expect(row["status"] == "full" && row["meals_left"] == 7)
    }
}
