import SyncCore
import SyncStore
import SyncTesting
import Testing

@Suite struct ChangesTests {
    @Test(arguments: StoreKind.allCases) func changesComeInSequenceOrderAcrossCollectionsAndTombstones(kind: StoreKind)
        throws
    {
        let fixture = try StoreFixture(kind)
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try fixture.store.write { try $0.put("checkins", key: "c-1", Samples.checkin()) }
        try fixture.store.write { try $0.put("stations", key: "st-2", Samples.station("Two")) }
        try fixture.store.write { try $0.delete("stations", key: "st-1") }
        try fixture.store.write {
            try $0.put(
                "appeals", key: "a-1", ["rider_id": .text("r"), "category": .text("wages"), "text": .text("unpaid")])
        }
        let changes = try fixture.store.allChanges()
        #expect(changes.map(\.seq) == [2, 3, 4, 5])
        #expect(changes.map(\.key) == ["c-1", "st-2", "st-1", "a-1"])
        #expect(changes[2].state.isDeleted)
        #expect(changes.map(\.collection) == ["checkins", "stations", "stations", "appeals"])
    }

    @Test func batchesPageWithCursorsAndFiltersStillAdvance() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { transaction in
            for index in 0..<25 {
                try transaction.put(
                    "checkins", key: "c\(index)", Samples.checkin(rider: index % 2 == 0 ? "even" : "odd"))
            }
        }
        var cursor: Int64 = 0
        var seen: [String] = []
        var batches = 0
        while true {
            let batch = try fixture.store.changes(after: cursor, limit: 4) {
                $0.state.visibleValue(of: "rider_id") == .text("even")
            }
            seen += batch.changes.map(\.key)
            cursor = batch.nextCursor
            batches += 1
            if !batch.hasMore { break }
        }
        #expect(seen == stride(from: 0, to: 25, by: 2).map { "c\($0)" })
        #expect(batches == 4)
        #expect(cursor == 25)
        let empty = try fixture.store.changes(after: cursor, limit: 10)
        #expect(empty.changes.isEmpty && !empty.hasMore && empty.nextCursor == 25)
        #expect(try fixture.store.changeCount(after: 20) == 5)
    }

    @Test func aChangedRecordMovesToTheEndOnce() throws {
        let fixture = try StoreFixture()
        try fixture.store.write { try $0.put("stations", key: "st-1", Samples.station()) }
        try fixture.store.write { try $0.put("stations", key: "st-2", Samples.station()) }
        try fixture.store.write { try $0.put("stations", key: "st-1", ["status": .text("full")]) }
        #expect(try fixture.store.allChanges().map(\.key) == ["st-2", "st-1"])
        #expect(try fixture.store.changes(after: 2, limit: 10).changes.map(\.seq) == [3])
    }
}
