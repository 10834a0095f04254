import SyncCore
import SyncSession
import SyncStore
import Testing
import YongaiDomain

/// A pull reads each principal's scope through an index. The narrowing must never hide a
/// change the policy lets the principal read, nor show one it does not.
@Suite struct ReadScopeTests {
    @Test func scopedScansReturnExactlyWhatFilteringEverythingReturns() throws {
        let policy = YongaiAccessPolicy()
        let store = try SyncStore(.inMemory, schema: YongaiCollections.schema)
        try store.addIndexes(policy.scopeIndexes)
        let city = CityDataset(scale: 0.02)
        try store.write { transaction in
            try transaction.put("stations", batch: city.stationRecords)
            try transaction.put("checkins", batch: Array(city.checkins(first: 3_000)))
            try transaction.put("appeals", batch: city.appeals(.year))
        }
        // Later edits move records to the end; a deleted appeal becomes a tombstone.
        let appeal = city.appeals(.year)[3]
        try store.write { transaction in
            try transaction.put("stations", key: city.stations[2].key, ["status": .text("full")])
            try transaction.put("appeals", key: appeal.key, ["status": .text("closed")])
            try transaction.delete("appeals", key: city.appeals(.year)[4].key)
        }
        let rider = city.riders.first { rider in
            city.appeals(.year).contains { $0.values["rider_id"] == .text(rider) }
        }!
        let busiest = city.stations[city.busiestStation()].key
        let principals = [
            Principal(role: "rider", subject: rider), Principal(role: "rider", subject: "r-nobody"),
            Principal(role: "station", subject: busiest), Principal(role: "staff", subject: "hotline-1"),
            Principal(role: "admin", subject: "ops"), Principal(role: "visitor", subject: "x"),
        ]
        for principal in principals {
            let reader = ScopedReader(store: store, principal: principal, policy: policy)
            let everything = try store.changes(after: 0, limit: 1_000_000) { policy.mayRead($0, by: principal) }
            var paged: [KeyedRecord] = []
            var cursor: Int64 = 0
            var pages = 0
            while true {
                let page = try reader.batch(after: cursor, limit: 37)
                paged += page.records
                cursor = page.cursor
                pages += 1
                if !page.more { break }
            }
            // A batch groups its records by collection and field list; each record comes once.
            func sorted(_ records: [KeyedRecord]) -> [KeyedRecord] {
                records.sorted { ($0.collection, $0.key) < ($1.collection, $1.key) }
            }
            #expect(sorted(paged) == sorted(everything.records), "\(principal)")
            #expect(Set(paged.map { "\($0.collection)/\($0.key)" }).count == paged.count)
            #expect(cursor == (try store.latestSeq()), "\(principal): the cursor ends at the latest change")
            #expect(pages >= everything.changes.count / 37, "\(principal)")
        }
        // The rider sees its check-ins and appeals and every station, and nothing else.
        let riderReader = ScopedReader(store: store, principal: principals[0], policy: policy)
        let seen = try riderReader.batch(after: 0, limit: 1_000_000).records
        #expect(seen.filter { $0.collection == "stations" }.count == city.stations.count)
        #expect(seen.contains { $0.collection == "appeals" })
        #expect(
            seen.allSatisfy { $0.collection == "stations" || $0.state.visibleValue(of: "rider_id") == .text(rider) })
    }

    @Test func anUnknownScopeFieldIsRefused() throws {
        let store = try SyncStore(.inMemory, schema: YongaiCollections.schema)
        #expect(throws: StoreError.self) { try store.addIndexes(["checkins": [["colour"]]]) }
        #expect(throws: StoreError.self) {
            try store.changes(
                after: 0, limit: 10, scopes: ["checkins": .matching(field: "colour", value: .text("red"))])
        }
    }
}
