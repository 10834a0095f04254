import SyncCore

/// One changed record in a delta: its full state and the sequence number of its last change.
public struct RecordChange: Sendable, Hashable {
    public let seq: Int64
    public let collection: String
    public let key: String
    public let state: RecordState

    public init(seq: Int64, collection: String, key: String, state: RecordState) {
        self.seq = seq
        self.collection = collection
        self.key = key
        self.state = state
    }

    /// The change as a record to merge elsewhere.
    public var record: KeyedRecord { KeyedRecord(collection: collection, key: key, state: state) }
}

/// A batch of changes after a cursor, in sequence order.
public struct ChangeBatch: Sendable, Hashable {
    public let changes: [RecordChange]
    /// The cursor to ask from next time: the last sequence number examined.
    public let nextCursor: Int64
    /// Whether changes remain after `nextCursor`.
    public let hasMore: Bool
}
