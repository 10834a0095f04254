/// A record's identity: its collection and key.
public struct RecordKey: Hashable, Sendable {
    public let collection: String
    public let key: String

    public init(_ collection: String, _ key: String) {
        self.collection = collection
        self.key = key
    }

    public init(_ record: KeyedRecord) {
        self.init(record.collection, record.key)
    }
}
