import SyncCore

/// One changed record in a delta: its state and the sequence number of its last change.
public struct RecordChange: Sendable, Hashable {
    public let seq: Int64
    /// The record, its state whole or, for a record made by one write, as that write.
    public let record: KeyedRecord

    public init(seq: Int64, collection: String, key: String, state: RecordState) {
        self.init(seq: seq, record: KeyedRecord(collection: collection, key: key, state: state))
    }

    public init(seq: Int64, record: KeyedRecord) {
        self.seq = seq
        self.record = record
    }

    public var collection: String { record.collection }
    public var key: String { record.key }
    /// The full state (built when the record holds a single write).
    public var state: RecordState { record.state }
}

/// A batch of changes after a cursor, in sequence order.
public struct ChangeBatch: Sendable, Hashable {
    /// The changed records, in sequence order.
    public let records: [KeyedRecord]
    /// Each record's sequence number, by position.
    public let seqs: [Int64]
    /// The cursor to ask from next time: the last sequence number examined.
    public let nextCursor: Int64
    /// Whether changes remain after `nextCursor`.
    public let hasMore: Bool

    /// The records with their sequence numbers.
    public var changes: [RecordChange] {
        zip(seqs, records).map { RecordChange(seq: $0, record: $1) }
    }
}
