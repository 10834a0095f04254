import SyncCore

/// The Yong'ai service network's collections, declared for the sync engine.
public enum YongaiCollections {
    /// Rest stops, charging/swap stations, partner merchants and rider-friendly communities.
    public static let stations = try! CollectionSchema(
        name: "stations",
        fields: [
            FieldSchema(
                "kind", .text, required: true, nullable: false,
                allowed: texts("rest_stop", "charging", "merchant", "community")),
            FieldSchema("name", .text, required: true, nullable: false, maximumLength: 200),
            FieldSchema("district", .text, maximumLength: 100),
            FieldSchema("address", .text, maximumLength: 300),
            FieldSchema("lat", .real, required: true, nullable: false, range: -90...90),
            FieldSchema("lon", .real, required: true, nullable: false, range: -180...180),
            FieldSchema("open_hours", .text, maximumLength: 100),
            FieldSchema(
                "status", .text, nullable: false, allowed: texts("open", "closed", "full"), default: .text("open")),
            FieldSchema("free_chargers", .integer, range: 0...10_000),
            FieldSchema("meals_left", .integer, range: 0...100_000),
        ],
        indexes: [["kind", "status"], ["lat", "lon"]])

    /// Rider check-ins at stations: immutable, with client-made ids, so retries merge into one.
    public static let checkins = try! CollectionSchema(
        name: "checkins",
        fields: [
            FieldSchema("rider_id", .text, required: true, nullable: false, maximumLength: 64),
            FieldSchema("station_id", .text, required: true, nullable: false, maximumLength: 128),
            FieldSchema(
                "purpose", .text, required: true, nullable: false, allowed: texts("rest", "charge", "meal", "other")),
            FieldSchema("at", .integer, required: true, nullable: false, range: 0...253_402_300_799_999),
            FieldSchema("device", .text, required: true, nullable: false, maximumLength: 64),
            FieldSchema("lat", .real, range: -90...90),
            FieldSchema("lon", .real, range: -180...180),
            FieldSchema("minutes", .integer, range: 0...1_440),
            FieldSchema("battery_pct", .integer, range: 0...100),
            FieldSchema("note", .text, maximumLength: 500),
        ],
        // No secondary indexes: a device holds only its own scope, and the daemon filters
        // pulls in sequence order; random-key indexes would cost every insert several times.
        policy: .immutable)

    /// Rider appeals (wage arrears, injuries, disputes) worked by the hotline team.
    public static let appeals = try! CollectionSchema(
        name: "appeals",
        fields: [
            FieldSchema("rider_id", .text, required: true, nullable: false, maximumLength: 64),
            FieldSchema("category", .text, required: true, nullable: false, maximumLength: 64),
            FieldSchema("text", .text, required: true, nullable: false, maximumLength: 8_000),
            FieldSchema(
                "status", .text, nullable: false,
                allowed: texts("filed", "accepted", "in_progress", "resolved", "closed"), default: .text("filed")),
            FieldSchema("assignee", .text, maximumLength: 64),
            FieldSchema("resolution", .text, maximumLength: 8_000),
            FieldSchema("satisfaction", .integer, range: 1...5),
        ],
        indexes: [["rider_id"], ["status"]])

    /// The whole schema every Yong'ai store holds.
    public static let schema = try! Schema([stations, checkins, appeals])

    private static func texts(_ values: String...) -> [FieldValue] {
        values.map { .text($0) }
    }
}
