import GRDB
import SyncCore
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

@Suite struct LocalWriteTests {
    @Test(arguments: StoreKind.allCases) func putMaterializesARealRow(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        let state = try #require(try fixture.store.record("stations", key: "st-1"))
        #expect(state.visibleValue(of: "name") == .text("Rest Stop 1"))
        #expect(state.context == VersionVector([fixture.store.replicaID: 1]))
        #expect(!state.isDeleted)
        let row = try #require(
            try fixture.store.row("SELECT id, kind, name, lat, status, free_chargers, meals_left FROM stations"))
        #expect(row["id"] == "st-1")
        #expect(row["kind"] == "rest_stop")
        #expect(row["lat"] == 29.87)
        #expect(row["free_chargers"] == 4)
        #expect(row["meals_left"] as DatabaseValue == .null)
        #expect(try fixture.store.latestSeq() == 1)
        #expect(try fixture.store.counter() == 1)
    }

    @Test(arguments: StoreKind.allCases) func updateChangesOnlyTheGivenFields(kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try fixture.store.write {
            try $0.put("stations", key: "st-1", ["status": .text("full"), "free_chargers": .integer(0)])
        }
        let row = try #require(
            try fixture.store.row("SELECT name, status, free_chargers FROM stations WHERE id = 'st-1'"))
        #expect(row["name"] == "Rest Stop 1")
        #expect(row["status"] == "full")
        #expect(row["free_chargers"] == 0)
        let state = try #require(try fixture.store.record("stations", key: "st-1"))
        #expect(state.context[fixture.store.replicaID] == 2)
        #expect(!state.hasConflicts)
        #expect(try fixture.store.latestSeq() == 2)
    }

    @Test func defaultsFillNewRecords() throws {
        let fixture = try StoreFixture()
        var values = Samples.station()
        values["status"] = nil
        try fixture.store.write { try $0.put("stations", key: "st-1", values) }
        #expect(try fixture.store.row("SELECT status FROM stations")?["status"] == "open")
    }

    @Test(arguments: StoreKind.allCases) func deleteMovesTheRecordOutOfTheTableAndReCreateBringsItBack(kind: StoreKind)
        throws
    {
        let fixture = try StoreFixture(kind)
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try fixture.store.write { try $0.delete("stations", key: "st-1") }
        #expect(try fixture.store.count("stations") == 0)
        #expect(try fixture.store.count("_sync_tombstones") == 1)
        #expect(try fixture.store.record("stations", key: "st-1")?.isDeleted == true)
        #expect(throws: StoreError.self) { try fixture.store.write { try $0.delete("stations", key: "st-1") } }

        try fixture.store.write { try $0.put("stations", key: "st-1", ["status": .text("closed")]) }
        #expect(try fixture.store.count("_sync_tombstones") == 0)
        let row = try #require(try fixture.store.row("SELECT name, status FROM stations"))
        #expect(row["name"] == "Rest Stop 1")
        #expect(row["status"] == "closed")
        #expect(try fixture.store.record("stations", key: "st-1")?.isDeleted == false)
    }

    @Test func aBatchCommitsTogetherOrNotAtAll() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { transaction in
            for index in 0..<50 { try transaction.put("checkins", key: "c\(index)", Samples.checkin()) }
        }
        #expect(try fixture.store.count("checkins") == 50)
        #expect(try fixture.store.counter() == 50)
        let failing = #expect(throws: StoreError.self) {
            try fixture.store.write { transaction in
                for index in 50..<60 { try transaction.put("checkins", key: "c\(index)", Samples.checkin()) }
                try transaction.put("checkins", key: "bad", ["purpose": .text("party")])
            }
        }
        #expect(failing?.code.rawValue == "invalid_value")
        #expect(try fixture.store.count("checkins") == 50)
        #expect(try fixture.store.counter() == 50)
        #expect(try fixture.store.latestSeq() == 50)
    }

    @Test func invalidWritesAreRefusedWithStableCodesAndChangeNothing() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        let before = try fixture.store.allChanges()
        let cases: [(String, String, [String: FieldValue], String)] = [
            ("stations", "st-1", ["status": .text("exploded")], "invalid_value"),
            ("stations", "st-1", ["free_chargers": .integer(-1)], "invalid_value"),
            ("stations", "st-1", ["lat": .real(91)], "invalid_value"),
            ("stations", "st-1", ["lat": .real(.nan)], "invalid_value"),
            ("stations", "st-1", ["free_chargers": .text("three")], "invalid_value"),
            ("stations", "st-1", ["name": .null], "invalid_value"),
            ("stations", "st-1", ["colour": .text("red")], "unknown_field"),
            ("stations", "", ["status": .text("open")], "invalid_key"),
            ("stations", "st-2", ["name": .text("No kind")], "missing_field"),
            ("parking", "p-1", ["name": .text("x")], "unknown_collection"),
            (
                "appeals", "a-1",
                ["rider_id": .text("r"), "category": .text("wages"), "text": .text("t"), "satisfaction": .integer(6)],
                "invalid_value"
            ),
        ]
        for (collection, key, values, code) in cases {
            let error = #expect(throws: StoreError.self) {
                try fixture.store.write { try $0.put(collection, key: key, values) }
            }
            #expect(error?.code.rawValue == code, "\(collection) \(values)")
            #expect(error?.message.isEmpty == false)
        }
        #expect(try fixture.store.allChanges() == before)
        #expect(try fixture.store.counter() == 1)
    }

    @Test func checkinsAreImmutableAndRepeatsChangeNothing() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { try $0.put("checkins", key: "c-1", Samples.checkin()) }
        try fixture.store.write { try $0.put("checkins", key: "c-1", Samples.checkin()) }
        #expect(try fixture.store.counter() == 1)
        let changed = #expect(throws: StoreError.self) {
            try fixture.store.write { try $0.put("checkins", key: "c-1", Samples.checkin(station: "st-9")) }
        }
        #expect(changed?.code.rawValue == "immutable_record")
        let deleted = #expect(throws: StoreError.self) {
            try fixture.store.write { try $0.delete("checkins", key: "c-1") }
        }
        #expect(deleted?.code.rawValue == "immutable_record")
        #expect(try fixture.store.row("SELECT station_id FROM checkins")?["station_id"] == "st-1")
    }

    @Test func theCounterPersistsAcrossReopenAndSharedHandles() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        let second = try fixture.reopen()
        #expect(second.replicaID == fixture.store.replicaID)
        // Two handles on one file (an agent and a kiosk command) interleave writes.
        for round in 0..<5 {
            try second.write { try $0.put("stations", key: "st-1", ["free_chargers": .integer(Int64(round))]) }
            try fixture.store.write { try $0.put("stations", key: "st-1", ["meals_left": .integer(Int64(round))]) }
        }
        #expect(try fixture.store.counter() == 11)
        let state = try #require(try second.record("stations", key: "st-1"))
        #expect(state.context[second.replicaID] == 11)
        #expect(!state.hasConflicts)
        #expect(try second.latestSeq() == 11)
    }

    @Test func everyInstallGetsItsOwnReplicaID() throws {
        let one = try StoreFixture(.inMemory)
        let two = try StoreFixture(.inMemory)
        #expect(one.store.replicaID != two.store.replicaID)
    }

    @Test func aLaterWriteHasALargerTimestampEvenWhenTheClockGoesBackWithinTheBound() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        fixture.clock.advance(by: -StoreOptions.defaultMaximumClockAhead + 60_000)
        let reopened = try fixture.reopen()
        try reopened.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
        let state = try #require(try reopened.record("stations", key: "st-1"))
        let name = try #require(state.register(of: "name")?.winner)
        let status = try #require(state.register(of: "status")?.winner)
        #expect(status.timestamp > name.timestamp)
    }

    /// A write stamped at the largest timestamp, taken in by a store without a bound (as
    /// every store was before the bound existed), saturates the clock instead of trapping;
    /// opened with the bound, the store's clock falls back to the wall clock at its next write.
    @Test func aClockPoisonedAtTheLargestTimestampSaturatesThenFallsBack() throws {
        var unbounded = StoreOptions()
        unbounded.maximumClockAhead = nil
        let fixture = try StoreFixture(options: unbounded)
        var state = RecordState()
        let far = HybridTimestamp(wallMillis: HybridTimestamp.maximumWallMillis, logical: 0xFFFE)
        state.put(
            Samples.station().map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 },
            dot: Dot(replica: ReplicaID(unchecked: "far-rider"), counter: 1), timestamp: far)
        try fixture.store.merge([KeyedRecord(collection: "stations", key: "st-9", state: state)])
        for status in ["full", "closed", "open"] {
            try fixture.store.write { try $0.put("stations", key: "st-9", ["status": .text(status)]) }
        }
        let saturated = try #require(try fixture.store.record("stations", key: "st-9")?.register(of: "status")?.winner)
        #expect(saturated.timestamp == .maximum)
        try fixture.store.close()

        let bounded = try fixture.reopen()
        try bounded.write { try $0.put("stations", key: "st-9", ["status": .text("full")]) }
        let status = try #require(try bounded.record("stations", key: "st-9")?.register(of: "status")?.winner)
        #expect(status.value == .text("full"))
        #expect(status.timestamp.wallMillis <= fixture.clock.nowMillis())
    }
}
