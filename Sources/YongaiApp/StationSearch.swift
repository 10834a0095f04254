import Foundation
import GRDB
import SyncStore

/// Finding stations in the local store: by kind and state, nearest first when a position is
/// given (great-circle distance).
public struct StationSearch: Sendable {
    /// One station by id.
    public var id: String?
    public var near: (lat: Double, lon: Double)?
    public var kind: String?
    public var openOnly = false
    public var freeChargers = false
    public var meals = false
    public var limit = 20

    public init() {}

    /// One station found.
    public struct Hit: Sendable, Equatable {
        public let id: String
        public let kind: String
        public let name: String
        public let district: String?
        public let status: String
        public let freeChargers: Int?
        public let mealsLeft: Int?
        public let lat: Double
        public let lon: Double
        /// Metres from the search position, when one was given.
        public let distance: Double?
    }

    /// The stations that match, nearest first when `near` is set (ties by id), else by id.
    ///
    /// Near a position, the search reads a box around it through the `(lat, lon)` index,
    /// growing the box until it holds `limit` stations within its inner circle: those are the
    /// nearest anywhere, since everything outside is farther. The city's 27,392 stations are
    /// never all read for one question.
    public func run(_ store: SyncStore) throws -> [Hit] {
        guard let near else { return try scan(store, box: nil) }
        var radius = 1_000.0
        while let box = Self.box(around: near, radius: radius) {
            let hits = try scan(store, box: box).filter { ($0.distance ?? 0) <= radius }
            if hits.count >= limit { return Array(hits.prefix(limit)) }
            radius *= 4
        }
        return try scanEverything(store)
    }

    /// The baseline `run` improves on: every matching station read and sorted by distance.
    public func scanEverything(_ store: SyncStore) throws -> [Hit] {
        Array(try scan(store, box: nil).sorted(by: Self.nearerFirst).prefix(limit))
    }

    /// Matching stations inside `box` (all when nil), nearest first when `near` is set.
    private func scan(_ store: SyncStore, box: (lat: ClosedRange<Double>, lon: ClosedRange<Double>)?) throws -> [Hit] {
        // Unary `+` keeps the planner off the (kind, status) index when a box can use (lat, lon).
        let prefix = box == nil ? "" : "+"
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let id {
            conditions.append("id = ?")
            arguments.append(id)
        }
        if let kind {
            conditions.append("\(prefix)kind = ?")
            arguments.append(kind)
        }
        if openOnly { conditions.append("\(prefix)status = 'open'") }
        if freeChargers { conditions.append("free_chargers > 0") }
        if meals { conditions.append("meals_left > 0") }
        if let box {
            conditions.append("lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?")
            arguments += [box.lat.lowerBound, box.lat.upperBound, box.lon.lowerBound, box.lon.upperBound]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try store.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, kind, name, district, status, free_chargers, meals_left, lat, lon FROM stations \(filter) ORDER BY id",
                arguments: StatementArguments(arguments))
        }
        let hits = rows.map { row in
            Hit(
                id: row["id"], kind: row["kind"], name: row["name"], district: row["district"], status: row["status"],
                freeChargers: row["free_chargers"], mealsLeft: row["meals_left"], lat: row["lat"], lon: row["lon"],
                distance: near.map { Self.metres(from: $0, to: (row["lat"], row["lon"])) })
        }
        if near != nil, box != nil { return hits.sorted(by: Self.nearerFirst) }
        return near == nil ? Array(hits.prefix(limit)) : hits
    }

    private static func nearerFirst(_ a: Hit, _ b: Hit) -> Bool {
        (a.distance ?? 0, a.id) < (b.distance ?? 0, b.id)
    }

    /// The latitude and longitude ranges holding every point within `radius` metres of
    /// `centre`; nil when they would reach a pole or the antimeridian (then read everything).
    static func box(around centre: (lat: Double, lon: Double), radius: Double) -> (
        lat: ClosedRange<Double>, lon: ClosedRange<Double>
    )? {
        let metresPerDegree = 6_371_008.8 * Double.pi / 180
        let latitudeSpan = radius / metresPerDegree
        let farthestLatitude = abs(centre.lat) + latitudeSpan
        guard farthestLatitude < 89 else { return nil }
        let longitudeSpan = latitudeSpan / cos(farthestLatitude * Double.pi / 180)
        guard longitudeSpan < 90, abs(centre.lon) + longitudeSpan < 180 else { return nil }
        return (
            (centre.lat - latitudeSpan)...(centre.lat + latitudeSpan),
            (centre.lon - longitudeSpan)...(centre.lon + longitudeSpan)
        )
    }

    /// Great-circle distance in metres (haversine, mean Earth radius).
    public static func metres(from a: (lat: Double, lon: Double), to b: (lat: Double, lon: Double)) -> Double {
        let radians = Double.pi / 180
        let dLat = (b.lat - a.lat) * radians
        let dLon = (b.lon - a.lon) * radians
        let h =
            sin(dLat / 2) * sin(dLat / 2) + cos(a.lat * radians) * cos(b.lat * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * 6_371_008.8 * asin(min(1, sqrt(h)))
    }

    /// `29.87,121.55` → a position, refusing anything off the globe.
    public static func position(_ text: String) throws -> (lat: Double, lon: Double) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lat = parts[0], let lon = parts[1], (-90...90).contains(lat),
            (-180...180).contains(lon)
        else { throw CLIError("bad coordinates \(text.debugDescription): use LAT,LON, as 29.87,121.55") }
        return (lat, lon)
    }

    /// `850 m` or `12.3 km`.
    public static func format(metres: Double) -> String {
        metres < 1_000 ? "\(Int(metres.rounded())) m" : String(format: "%.1f km", metres / 1_000)
    }
}
