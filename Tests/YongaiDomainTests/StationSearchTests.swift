import SyncCore
import SyncStore
import Testing
import YongaiApp
import YongaiDomain

@Suite struct StationSearchTests {
    @Test func theBoxSearchFindsExactlyWhatReadingEverythingFinds() throws {
        let store = try SyncStore(.inMemory, schema: YongaiCollections.schema)
        let city = CityDataset(scale: 0.3)
        try store.write { try $0.put("stations", batch: city.stationRecords) }
        var random = SplitMix64(seed: 9)
        var searches = 0
        for _ in 0..<60 {
            var search = StationSearch()
            // Downtown, the outskirts, and off the map (the sea, another city).
            let lat = 28.5 + Double(random.next() % 2_500) / 1_000
            let lon = 120.5 + Double(random.next() % 2_500) / 1_000
            search.near = (lat, lon)
            search.kind = ["charging", "merchant", nil, "rest_stop"][Int(random.next() % 4)]
            search.openOnly = random.next() % 3 != 0
            search.freeChargers = search.kind == "charging" && random.next() % 2 == 0
            search.limit = [1, 10, 50][Int(random.next() % 3)]
            let found = try search.run(store)
            #expect(found == (try search.scanEverything(store)), "\(lat),\(lon) \(search.kind ?? "any")")
            #expect(found.count == search.limit)
            searches += 1
        }
        #expect(searches == 60)
        // Far from every station the box grows until it gives up and reads everything.
        var far = StationSearch()
        far.near = (-33.9, 151.2)
        far.limit = 3
        #expect(try far.run(store) == (try far.scanEverything(store)))
        #expect(try far.run(store).count == 3)
    }
}
