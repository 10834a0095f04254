/// One entry of a replica's lineage log: the random token a write transaction minted and the
/// dot counter it ended at. Any copy of the store that holds the entry holds every write up
/// to that counter.
public struct LineageEntry: Sendable, Hashable {
    public let token: String
    public let counter: Int64

    public init(token: String, counter: Int64) {
        self.token = token
        self.counter = counter
    }
}
