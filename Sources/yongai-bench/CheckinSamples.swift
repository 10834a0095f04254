import SyncCore

/// Deterministic ten-field check-ins, the rows every write benchmark uses.
struct CheckinSamples {
    /// Field names in column order (the key column excluded).
    static let fieldNames = [
        "rider_id", "station_id", "purpose", "at", "device", "lat", "lon", "minutes", "battery_pct", "note",
    ]

    let rows: [(key: String, values: [FieldValue])]

    init(count: Int, seed: UInt64 = 42) {
        var rng = SplitMix64(seed: seed)
        let purposes = ["rest", "charge", "meal", "other"]
        rows = (0..<count).map { index in
            let purpose = purposes[Int(rng.next() % 4)]
            let values: [FieldValue] = [
                .text("rider-\(rng.next() % 32_100)"),
                .text("st-\(rng.next() % 27_392)"),
                .text(purpose),
                .integer(1_764_000_000_000 + Int64(index) * 1_000),
                .text("kiosk-\(rng.next() % 2_438)"),
                .real(29.0 + Double(rng.next() % 1_400_000) / 1_000_000),
                .real(120.9 + Double(rng.next() % 1_400_000) / 1_000_000),
                .integer(Int64(rng.next() % 240)),
                purpose == "charge" ? .integer(Int64(rng.next() % 101)) : .null,
                rng.next() % 4 == 0 ? .text("short note \(index)") : .null,
            ]
            return (String(format: "ci-%08d", index), values)
        }
    }

    /// A row's values keyed by field name, as the store's write API takes them.
    static func dictionary(_ values: [FieldValue]) -> [String: FieldValue] {
        Dictionary(uniqueKeysWithValues: zip(fieldNames, values).filter { $0.1 != .null })
    }
}
