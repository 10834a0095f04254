/// A record's replicated state with the collection and key it belongs to: what a delta
/// carries, a merge takes and the wire encodes.
public struct KeyedRecord: Sendable, Hashable {
    public let collection: String
    public let key: String
    public let state: RecordState

    public init(collection: String, key: String, state: RecordState) {
        self.collection = collection
        self.key = key
        self.state = state
    }
}
