import SyncCore
import YongaiDomain

/// The city's first check-ins of the year as positional rows, the rows every write benchmark
/// uses (the store takes them by name, the plain-table baseline by position).
struct CheckinSamples {
    /// Field names in column order (the key column excluded).
    static let fieldNames = YongaiCollections.checkins.fields.map(\.name)

    let rows: [(key: String, values: [FieldValue])]

    init(count: Int, dataset: CityDataset = CityDataset()) {
        rows = dataset.checkins(first: count).map { checkin in
            (checkin.key, Self.fieldNames.map { checkin.values[$0] ?? .null })
        }
    }

    /// A row's values keyed by field name, as the store's write API takes them.
    static func dictionary(_ values: [FieldValue]) -> [String: FieldValue] {
        Dictionary(uniqueKeysWithValues: zip(fieldNames, values).filter { $0.1 != .null })
    }
}
