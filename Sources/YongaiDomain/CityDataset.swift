import Foundation
import SyncCore

/// A Ningbo-sized service network, deterministic by seed: stations placed in the city's
/// districts (denser downtown), riders, a year of check-ins and appeals at the network's real
/// rates. Benchmarks and load tests run on it; `yongai-bench dataset` writes it out.
///
/// Check-ins and appeals are generated on demand, in time order, so a year (1.6 million
/// check-ins at scale 1) never has to sit in memory.
public struct CityDataset: Sendable {
    /// What a city of scale 1 holds (Ningbo's network).
    public struct Counts: Sendable, Equatable {
        public var restStops = 2_438
        public var charging = 11_322
        public var merchants = 10_094
        public var communities = 3_538
        public var riders = 32_100
        /// Over 1,000,000 rider meals and over 500,000 station services a year.
        public var checkinsPerYear = 1_570_000
        /// 4,775 appeals every two months.
        public var appealsPerYear = 28_650

        public init() {}

        public var stations: Int { restStops + charging + merchants + communities }

        /// Every count scaled (at least one of each).
        public func scaled(_ scale: Double) -> Counts {
            func scaled(_ count: Int) -> Int { max(1, Int((Double(count) * scale).rounded())) }
            var counts = Counts()
            counts.restStops = scaled(restStops)
            counts.charging = scaled(charging)
            counts.merchants = scaled(merchants)
            counts.communities = scaled(communities)
            counts.riders = scaled(riders)
            counts.checkinsPerYear = scaled(checkinsPerYear)
            counts.appealsPerYear = scaled(appealsPerYear)
            return counts
        }
    }

    /// A span of the year's activity.
    public enum Span: String, Sendable, CaseIterable {
        case day
        case year

        func share(of yearly: Int) -> Int {
            switch self {
            case .day: max(1, yearly / 365)
            case .year: yearly
            }
        }
    }

    /// A district: its centre, spread (degrees) and share of the stations.
    struct District {
        let name: String
        let lat: Double
        let lon: Double
        let spread: Double
        let weight: Double
    }

    /// Ningbo's districts and county-level cities; the three downtown districts hold about
    /// half of the network.
    static let districts = [
        District(name: "Haishu", lat: 29.874, lon: 121.552, spread: 0.03, weight: 0.16),
        District(name: "Jiangbei", lat: 29.886, lon: 121.555, spread: 0.025, weight: 0.10),
        District(name: "Yinzhou", lat: 29.817, lon: 121.547, spread: 0.04, weight: 0.22),
        District(name: "Zhenhai", lat: 29.949, lon: 121.716, spread: 0.04, weight: 0.07),
        District(name: "Beilun", lat: 29.899, lon: 121.844, spread: 0.06, weight: 0.10),
        District(name: "Fenghua", lat: 29.655, lon: 121.406, spread: 0.06, weight: 0.07),
        District(name: "Yuyao", lat: 30.037, lon: 121.154, spread: 0.07, weight: 0.10),
        District(name: "Cixi", lat: 30.169, lon: 121.266, spread: 0.07, weight: 0.11),
        District(name: "Ninghai", lat: 29.288, lon: 121.429, spread: 0.07, weight: 0.04),
        District(name: "Xiangshan", lat: 29.477, lon: 121.869, spread: 0.07, weight: 0.03),
    ]

    /// The city's bounding box.
    public static let latitudes = 29.0...30.4
    public static let longitudes = 120.9...122.3

    /// 2026-01-01T00:00:00Z, where the dataset's year starts (milliseconds since the epoch).
    public static let yearStart: Int64 = 1_767_225_600_000
    static let yearMillis: Int64 = 365 * 86_400_000

    /// One station of the registry.
    public struct Station: Sendable {
        public let key: String
        public let kind: String
        public let lat: Double
        public let lon: Double
        public let values: [String: FieldValue]
    }

    /// One record of a generated collection: its key and field values.
    public typealias Record = (key: String, values: [String: FieldValue])

    public let seed: UInt64
    public let counts: Counts
    public let stations: [Station]
    public let riders: [String]
    /// Per purpose (rest, charge, meal, other): the stations serving it and their cumulative
    /// popularity (a few busy stations, a long tail), for drawing where a check-in happens.
    let venues: [(stations: [Int], cumulative: [Double])]

    public init(scale: Double = 1, seed: UInt64 = 1) {
        self.seed = seed
        counts = Counts().scaled(scale)
        var random = SplitMix64(seed: seed)
        var stations: [Station] = []
        let kinds: [(String, String, Int)] = [
            ("rest_stop", "Rider Rest Stop", counts.restStops), ("charging", "Battery Swap", counts.charging),
            ("merchant", "Rider Canteen", counts.merchants),
            ("community", "Rider-Friendly Community", counts.communities),
        ]
        let roads = ["Zhongshan", "Jiefang", "Baizhang", "Tiantong", "Siming", "Changchun", "Huancheng", "Kaiming"]
        for (kind, title, count) in kinds {
            for _ in 0..<count {
                let index = stations.count
                let district = Self.pickDistrict(&random)
                let lat = Self.rounded(
                    Self.clamp(district.lat + Self.gaussian(&random) * district.spread, Self.latitudes))
                let lon = Self.rounded(
                    Self.clamp(district.lon + Self.gaussian(&random) * district.spread, Self.longitudes))
                var values: [String: FieldValue] = [
                    "kind": .text(kind), "name": .text("\(district.name) \(title) \(index + 1)"),
                    "district": .text(district.name),
                    "address": .text("No. \(1 + random.next() % 999) \(roads[Int(random.next() % 8)]) Road"),
                    "lat": .real(lat), "lon": .real(lon),
                    "open_hours": .text(kind == "merchant" ? "10:00-22:00" : "00:00-24:00"),
                    "status": .text(Self.pickStatus(&random)),
                ]
                if kind == "charging" { values["free_chargers"] = .integer(Int64(random.next() % 13)) }
                if kind == "merchant" { values["meals_left"] = .integer(Int64(random.next() % 81)) }
                stations.append(Station(key: Self.stationKey(index), kind: kind, lat: lat, lon: lon, values: values))
            }
        }
        self.stations = stations
        riders = (0..<counts.riders).map { "r-\(String(100_000 + $0).dropFirst())" }
        var venues: [(stations: [Int], cumulative: [Double])] = []
        for kind in ["rest_stop", "charging", "merchant", "community"] {
            let serving = stations.indices.filter { stations[$0].kind == kind }
            // Popularity falls off with a shuffled rank (Zipf, exponent 0.8).
            var ranks = Array(1...serving.count)
            ranks.shuffle(using: &random)
            var total = 0.0
            let cumulative = ranks.map { rank in
                total += 1 / pow(Double(rank), 0.8)
                return total
            }
            venues.append((serving, cumulative.map { $0 / total }))
        }
        self.venues = venues
    }

    /// The key of station number `index` (0-based).
    public static func stationKey(_ index: Int) -> String {
        "st-" + String(String(100_000 + index).dropFirst())
    }

    /// The station registry as records.
    public var stationRecords: [Record] {
        stations.map { ($0.key, $0.values) }
    }

    /// How many check-ins fall in `span`.
    public func checkinCount(_ span: Span) -> Int {
        span.share(of: counts.checkinsPerYear)
    }

    /// How many appeals fall in `span`.
    public func appealCount(_ span: Span) -> Int {
        span.share(of: counts.appealsPerYear)
    }

    /// The check-ins of `span` (from the start of the year), in time order.
    public func checkins(_ span: Span) -> Checkins {
        Checkins(dataset: self, count: checkinCount(span))
    }

    /// The first `count` check-ins of the year, in time order.
    public func checkins(first count: Int) -> Checkins {
        Checkins(dataset: self, count: count)
    }

    /// The appeals of `span`, in time order.
    public func appeals(_ span: Span) -> [Record] {
        var random = SplitMix64(seed: seed ^ 0xA99E_A15)
        let count = appealCount(span)
        let categories = ["wages", "injury", "accident", "platform", "other"]
        let statuses = ["filed", "accepted", "in_progress", "resolved", "closed"]
        return (0..<count).map { index in
            let status = statuses[Int(random.next() % 5)]
            var values: [String: FieldValue] = [
                "rider_id": .text(riders[Int(random.next() % UInt64(riders.count))]),
                "category": .text(categories[Int(random.next() % 5)]),
                "text": .text("Appeal \(index + 1): please help with my case."), "status": .text(status),
            ]
            if status != "filed" { values["assignee"] = .text("hotline-\(1 + random.next() % 40)") }
            if status == "resolved" || status == "closed" { values["resolution"] = .text("Settled with the platform.") }
            if status == "closed" { values["satisfaction"] = .integer(Int64(1 + random.next() % 5)) }
            return ("ap-" + String(String(10_000_000 + index).dropFirst()), values)
        }
    }

    /// The check-ins of the year, generated in order as they are read.
    public struct Checkins: Sequence, Sendable {
        let dataset: CityDataset
        public let count: Int

        public func makeIterator() -> Iterator {
            Iterator(dataset: dataset, count: count)
        }

        public struct Iterator: IteratorProtocol {
            let dataset: CityDataset
            let count: Int
            var index = 0
            var random: SplitMix64

            init(dataset: CityDataset, count: Int) {
                self.dataset = dataset
                self.count = count
                random = SplitMix64(seed: dataset.seed ^ 0xC4EC_C1)
            }

            public mutating func next() -> Record? {
                guard index < count else { return nil }
                defer { index += 1 }
                return dataset.checkin(index, &random)
            }
        }
    }

    /// Check-in number `index`: two in three are meals, the rest rests, charges and others.
    func checkin(_ index: Int, _ random: inout SplitMix64) -> Record {
        let roll = random.next() % 1_000
        let (purpose, venue): (String, Int) =
            roll < 669 ? ("meal", 2) : roll < 835 ? ("rest", 0) : roll < 962 ? ("charge", 1) : ("other", 3)
        let station = stations[pick(venue, &random)]
        let rider = riders[Int(random.next() % UInt64(riders.count))]
        // Spread evenly over the year, with up to a minute of jitter.
        let at =
            Self.yearStart + Int64(index) * (Self.yearMillis / Int64(max(counts.checkinsPerYear, 1)))
            + Int64(random.next() % 60_000)
        var values: [String: FieldValue] = [
            "rider_id": .text(rider), "station_id": .text(station.key), "purpose": .text(purpose),
            "at": .integer(at), "device": .text(random.next() % 5 < 3 ? "kiosk-\(station.key)" : "cli-\(rider)"),
            "lat": station.values["lat"]!, "lon": station.values["lon"]!,
            "minutes": .integer(Int64(purpose == "meal" ? 15 + random.next() % 30 : 10 + random.next() % 110)),
        ]
        if purpose == "charge" { values["battery_pct"] = .integer(Int64(random.next() % 101)) }
        if random.next() % 8 == 0 { values["note"] = .text("busy at \(station.key)") }
        return ("ci-" + String(String(100_000_000 + index).dropFirst()), values)
    }

    /// A station for a check-in of purpose `venue`, drawn by popularity.
    private func pick(_ venue: Int, _ random: inout SplitMix64) -> Int {
        let (serving, cumulative) = venues[venue]
        let target = Double(random.next() >> 11) / Double(1 << 53)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return serving[low]
    }

    /// The index of the busiest station of `kind` (most check-ins in a year).
    public func busiestStation(kind: String = "merchant") -> Int {
        let venue = ["rest_stop", "charging", "merchant", "community"].firstIndex(of: kind) ?? 2
        let (serving, cumulative) = venues[venue]
        var best = 0
        var bestShare = -1.0
        for position in serving.indices {
            let share = cumulative[position] - (position == 0 ? 0 : cumulative[position - 1])
            if share > bestShare {
                bestShare = share
                best = serving[position]
            }
        }
        return best
    }

    private static func pickDistrict(_ random: inout SplitMix64) -> District {
        var roll = Double(random.next() >> 11) / Double(1 << 53)
        for district in districts {
            roll -= district.weight
            if roll < 0 { return district }
        }
        return districts[0]
    }

    private static func pickStatus(_ random: inout SplitMix64) -> String {
        let roll = random.next() % 100
        return roll < 85 ? "open" : roll < 95 ? "closed" : "full"
    }

    /// A standard normal draw (Box-Muller).
    private static func gaussian(_ random: inout SplitMix64) -> Double {
        let u1 = max(Double(random.next() >> 11) / Double(1 << 53), 1e-12)
        let u2 = Double(random.next() >> 11) / Double(1 << 53)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Six decimals: about 10 cm, as a survey gives them.
    private static func rounded(_ degrees: Double) -> Double {
        (degrees * 1e6).rounded() / 1e6
    }

    private static func clamp(_ value: Double, _ range: ClosedRange<Double>) -> Double {
        min(max(value, range.lowerBound), range.upperBound)
    }
}
