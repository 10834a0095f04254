import SyncCore
import SyncStore
import Testing
import YongaiApp
import YongaiDomain

@Suite struct CityDatasetTests {
    static let city = CityDataset()

    @Test func theCityHasNingbosCountsAtScaleOne() {
        let city = Self.city
        #expect(city.stations.count == 27_392)
        #expect(city.stations.filter { $0.kind == "rest_stop" }.count == 2_438)
        #expect(city.stations.filter { $0.kind == "charging" }.count == 11_322)
        #expect(city.stations.filter { $0.kind == "merchant" }.count == 10_094)
        #expect(city.stations.filter { $0.kind == "community" }.count == 3_538)
        #expect(city.riders.count == 32_100)
        #expect(Set(city.riders).count == 32_100)
        #expect(Set(city.stations.map(\.key)).count == 27_392)
        #expect(city.checkinCount(.year) >= 1_500_000)
        #expect(city.appealCount(.year) / 6 >= 4_775 - 1)
        #expect(city.checkinCount(.day) == city.checkinCount(.year) / 365)
        let half = CityDataset(scale: 0.5).counts
        #expect(half.charging == 5_661)
        #expect(half.riders == 16_050)
    }

    @Test func theSameSeedGivesTheSameCityAndAnotherSeedAnother() {
        let again = CityDataset()
        let other = CityDataset(seed: 2)
        #expect(again.stationRecords.map(\.values) == Self.city.stationRecords.map(\.values))
        #expect(other.stationRecords.map(\.values) != Self.city.stationRecords.map(\.values))
        let first = Array(Self.city.checkins(first: 2_000))
        #expect(Array(again.checkins(first: 2_000)).elementsEqual(first) { $0.key == $1.key && $0.values == $1.values })
        #expect(!Array(other.checkins(first: 2_000)).elementsEqual(first) { $0.values == $1.values })
    }

    @Test func everyStationIsInNingboAndDenserDowntown() {
        var downtown = 0
        for station in Self.city.stations {
            #expect(CityDataset.latitudes.contains(station.lat) && CityDataset.longitudes.contains(station.lon))
            let district = station.values["district"]
            if district == .text("Haishu") || district == .text("Jiangbei") || district == .text("Yinzhou") {
                downtown += 1
            }
        }
        // Three of ten districts, under a tenth of the area, hold close to half the stations.
        #expect(downtown > Self.city.stations.count * 4 / 10)
    }

    @Test func everyRecordFitsItsCollectionAndCheckinsGoWhereTheirPurposeIsServed() throws {
        let kinds = Dictionary(uniqueKeysWithValues: Self.city.stations.map { ($0.key, $0.kind) })
        let served = ["meal": "merchant", "rest": "rest_stop", "charge": "charging", "other": "community"]
        for station in Self.city.stationRecords {
            _ = try YongaiCollections.stations.validateWrite(station.values)
        }
        var previous: Int64 = 0
        var purposes: [String: Int] = [:]
        for checkin in Self.city.checkins(first: 20_000) {
            _ = try YongaiCollections.checkins.validateWrite(checkin.values)
            guard case .text(let purpose) = checkin.values["purpose"],
                case .text(let station) = checkin.values["station_id"],
                case .integer(let at) = checkin.values["at"]
            else {
                Issue.record("a check-in without purpose, station or time")
                continue
            }
            #expect(kinds[station] == served[purpose])
            #expect(at >= previous - 60_000, "check-ins come in time order")
            previous = at
            purposes[purpose, default: 0] += 1
        }
        // Over a million meals and half a million services a year: meals are about two in three.
        #expect((12_500...14_300).contains(purposes["meal"] ?? 0))
        for appeal in Self.city.appeals(.day) {
            _ = try YongaiCollections.appeals.validateWrite(appeal.values)
        }
    }

    @Test func aFewStationsAreBusyAndTheBusiestIsFound() {
        var counts: [String: Int] = [:]
        for checkin in Self.city.checkins(first: 100_000) {
            if case .text(let station) = checkin.values["station_id"] { counts[station, default: 0] += 1 }
        }
        let busiest = Self.city.stations[Self.city.busiestStation()].key
        #expect(counts.max { $0.value < $1.value }?.key == busiest)
        #expect(counts[busiest, default: 0] > 100_000 / 27_392 * 20)
    }
}
