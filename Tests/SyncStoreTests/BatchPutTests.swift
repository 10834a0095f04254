import GRDB
import SyncCore
import SyncStore
import SyncTesting
import Synchronization
import Testing
import YongaiDomain

/// `put(_:batch:)`: many writes of one collection, all or nothing, with the multi-row fast path
/// for new records. Each case checks the batch against the same writes made one `put` at a
/// time on a twin store (same replica id, same clock, same random draws): every state, row
/// and sequence number must match.
@Suite struct BatchPutTests {
    /// A store and its twin, both with one replica id, the same manual clock and a random
    /// source seeded alike.
    struct Twins {
        let batched: StoreFixture
        let single: StoreFixture

        init() throws {
            let replica = try ReplicaID("twinreplica0000")
            let clock = ManualClock()
            func options() -> StoreOptions {
                var options = StoreOptions(newReplicaID: replica)
                let generator = Mutex(SplitMix64(seed: 7))
                options.random = { generator.withLock { $0.next() } }
                return options
            }
            batched = try StoreFixture(.file, clock: clock, options: options())
            single = try StoreFixture(.file, clock: clock, options: options())
        }

        /// Writes `records` as one batch on one store and one put at a time on the other.
        func put(_ collection: String, _ records: [(key: String, values: [String: FieldValue])]) throws {
            try batched.store.write { try $0.put(collection, batch: records) }
            try single.store.write { transaction in
                for record in records { try transaction.put(collection, key: record.key, record.values) }
            }
        }

        func expectSame(_ collection: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(
                try batched.store.allChanges() == single.store.allChanges(), sourceLocation: sourceLocation)
            let rows = "SELECT * FROM \(collection) ORDER BY _sync_seq"
            #expect(
                try batched.store.read { try Row.fetchAll($0, sql: rows) }
                    == single.store.read { try Row.fetchAll($0, sql: rows) }, sourceLocation: sourceLocation)
            #expect(try batched.store.counter() == single.store.counter(), sourceLocation: sourceLocation)
            #expect(try batched.store.latestSeq() == single.store.latestSeq(), sourceLocation: sourceLocation)
        }
    }

    static func checkins(_ range: Range<Int>, station: String = "st-1") -> [(key: String, values: [String: FieldValue])]
    {
        range.map { index in
            var values = Samples.checkin(
                rider: "rider-\(index % 7)", station: station, at: 1_764_000_000_000 + Int64(index))
            if index % 3 == 0 { values["note"] = .text("note \(index)") }
            if index % 4 == 0 { values["battery_pct"] = .integer(Int64(index % 101)) }
            return (key: "c-\(index)", values: values)
        }
    }

    @Test(arguments: [0, 1, 15, 16, 17, 40, 1_000]) func newRecordsGoInExactlyAsSinglePutsWould(count: Int) throws {
        let twins = try Twins()
        try twins.put("checkins", Self.checkins(0..<count))
        try twins.expectSame("checkins")
        #expect(try twins.batched.store.count("checkins") == count)
    }

    @Test func aBatchWithRecordsAlreadyHeldTakesTheSlowPathWithTheSameResult() throws {
        let twins = try Twins()
        try twins.put("checkins", Self.checkins(0..<20))
        // Repeats of held check-ins change nothing; the new ones around them go in.
        try twins.put("checkins", Self.checkins(10..<50))
        try twins.expectSame("checkins")
        #expect(try twins.batched.store.count("checkins") == 50)
        // Stations: an update of a held record inside a batch of new ones.
        try twins.put("stations", [(key: "st-1", values: Samples.station())])
        try twins.put(
            "stations",
            [
                (key: "st-2", values: Samples.station("Two")), (key: "st-1", values: ["status": .text("full")]),
                (key: "st-3", values: Samples.station("Three")),
            ])
        try twins.expectSame("stations")
    }

    @Test func aKeyTwiceInOneBatchIsWrittenTwiceInOrder() throws {
        let twins = try Twins()
        try twins.put(
            "stations",
            [(key: "st-1", values: Samples.station()), (key: "st-1", values: Samples.station(status: "closed"))])
        try twins.expectSame("stations")
        #expect(try twins.batched.store.row("SELECT status FROM stations")?["status"] == "closed")
    }

    @Test func aCollectionWithTombstonesAndIncompleteRecordsTakeTheSlowPath() throws {
        let twins = try Twins()
        try twins.put("stations", [(key: "st-1", values: Samples.station())])
        for twin in [twins.batched, twins.single] { try twin.store.write { try $0.delete("stations", key: "st-1") } }
        // A re-create may give one field: the tombstone supplies the rest.
        try twins.put(
            "stations", [(key: "st-1", values: ["status": .text("closed")]), (key: "st-2", values: Samples.station())])
        try twins.expectSame("stations")
        #expect(try twins.batched.store.count("stations") == 2)
    }

    @Test func aRefusedRecordKeepsNoneOfItsBatchButEarlierWritesStay() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { try $0.put("checkins", batch: Self.checkins(0..<5)) }
        let before = try fixture.store.allChanges()
        var invalid = Self.checkins(100..<140)
        invalid[33].values["purpose"] = .text("party")
        var incomplete = Self.checkins(200..<240)
        incomplete[20].values["rider_id"] = nil
        var clashing = Self.checkins(300..<340)
        clashing[25] = (key: "c-2", values: Samples.checkin(station: "st-9"))
        let cases: [([(key: String, values: [String: FieldValue])], String, String)] = [
            (invalid, "invalid_value", "c-133"), (incomplete, "missing_field", "c-220"),
            (clashing, "immutable_record", "c-2"),
        ]
        for (batch, code, key) in cases {
            let error = #expect(throws: StoreError.self) {
                try fixture.store.write { transaction in
                    try transaction.put("checkins", key: "kept", Samples.checkin())
                    do {
                        try transaction.put("checkins", batch: batch)
                    } catch {
                        // The transaction goes on: the write before the batch is kept.
                        #expect(try transaction.record("checkins", key: "kept") != nil)
                        #expect(try transaction.record("checkins", key: batch[0].key) == nil)
                        throw error
                    }
                }
            }
            #expect(error?.code.rawValue == code)
            #expect(error?.message.contains(key) == true, "\(error?.message ?? "")")
            #expect(try fixture.store.allChanges() == before)
            #expect(try fixture.store.counter() == 5)
        }
        // Caught inside the transaction, a refused batch leaves the rest to commit.
        try fixture.store.write { transaction in
            #expect(throws: StoreError.self) { try transaction.put("checkins", batch: invalid) }
            try transaction.put("checkins", key: "kept", Samples.checkin())
        }
        #expect(try fixture.store.count("checkins") == 6)
        #expect(try fixture.store.counter() == 6)
        #expect(try fixture.store.latestSeq() == 6)
    }
}
