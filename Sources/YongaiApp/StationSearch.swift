import Foundation
import GRDB
import SyncStore

/// Finding stations in the local store: by kind and state, nearest first when a position is
/// given (great-circle distance).
public struct StationSearch: Sendable {
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

    public func run(_ store: SyncStore) throws -> [Hit] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let kind {
            conditions.append("kind = ?")
            arguments.append(kind)
        }
        if openOnly { conditions.append("status = 'open'") }
        if freeChargers { conditions.append("free_chargers > 0") }
        if meals { conditions.append("meals_left > 0") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try store.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, kind, name, district, status, free_chargers, meals_left, lat, lon FROM stations \(filter) ORDER BY id",
                arguments: StatementArguments(arguments))
        }
        var hits = rows.map { row in
            Hit(
                id: row["id"], kind: row["kind"], name: row["name"], district: row["district"], status: row["status"],
                freeChargers: row["free_chargers"], mealsLeft: row["meals_left"], lat: row["lat"], lon: row["lon"],
                distance: near.map { Self.metres(from: $0, to: (row["lat"], row["lon"])) })
        }
        if near != nil { hits.sort { ($0.distance ?? 0, $0.id) < ($1.distance ?? 0, $1.id) } }
        return Array(hits.prefix(limit))
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
