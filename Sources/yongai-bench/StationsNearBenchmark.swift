import Foundation
import SyncCore
import SyncStore
import YongaiApp
import YongaiDomain

/// `stations-near`: the rider's most common question, the 10 nearest open charging stations,
/// asked from riders' positions across the city against a store of all 27,392 stations. Ours
/// reads a growing box through the (lat, lon) index; the baseline reads every open charging
/// station and sorts by distance. Both must give the same answers.
struct StationsNearBenchmark {
    let queries: Int
    let rounds: Int

    func run() throws {
        let directory = NSTemporaryDirectory() + "yongai-bench-near-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let city = CityDataset()
        let store = try SyncStore(.file(directory + "/store.sqlite"), schema: YongaiCollections.schema)
        try store.write { try $0.put("stations", batch: city.stationRecords) }
        // Riders are where stations are: a random station's position, up to ~2 km away.
        var random = SplitMix64(seed: 11)
        let searches = (0..<queries).map { _ in
            let station = city.stations[Int(random.next() % UInt64(city.stations.count))]
            var search = StationSearch()
            search.near = (
                station.lat + Double(Int64(random.next() % 4_000) - 2_000) / 111_000,
                station.lon + Double(Int64(random.next() % 4_000) - 2_000) / 96_000
            )
            search.kind = "charging"
            search.openOnly = true
            search.limit = 10
            return search
        }
        for search in searches.prefix(50) {
            let found = try search.run(store)
            let scanned = try search.scanEverything(store)
            precondition(found == scanned, "the searches disagree")
        }
        let baselineQueries = max(1, queries / 10)
        var ours: [Double] = []
        var baseline: [Double] = []
        for round in 0..<rounds {
            for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                if side == 0 {
                    ours.append(try BenchmarkRun.time { for search in searches { _ = try search.run(store) } })
                } else {
                    // The baseline is slow: a tenth of the questions, timed and scaled up.
                    let seconds = try BenchmarkRun.time {
                        for search in searches.prefix(baselineQueries) { _ = try search.scanEverything(store) }
                    }
                    baseline.append(seconds * Double(queries) / Double(baselineQueries))
                }
            }
        }
        let oursRate = Double(queries) / BenchmarkRun.median(ours)
        let baselineRate = Double(queries) / BenchmarkRun.median(baseline)
        print(
            "stations-near: the 10 nearest open charging stations among \(city.stations.count), \(queries) questions per round (the baseline asks a tenth of them; its times are scaled), \(rounds) rounds per side (median)"
        )
        print(rateRow("box search through the (lat, lon) index", ours, oursRate))
        print(rateRow("read every open charging station and sort", baseline, baselineRate))
        print(String(format: "ratio (baseline rate / ours): %.3f (below 1: ours is faster)", baselineRate / oursRate))
        print(
            "{\"bench\":\"stations-near\",\"stations\":\(city.stations.count),\"ours_per_s\":\(Int(oursRate)),\"baseline_per_s\":\(Int(baselineRate)),\"ratio\":\(String(format: "%.4f", baselineRate / oursRate))}"
        )
    }

    private func rateRow(_ label: String, _ times: [Double], _ rate: Double) -> String {
        BenchmarkRun.row(label, times, rate).replacingOccurrences(of: "rec/s", with: "q/s  ")
    }
}
