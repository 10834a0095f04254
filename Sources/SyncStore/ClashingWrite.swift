import SyncCore

/// The cause of a `replica_diverged` refusal met in a push's records: one of the pusher's
/// writes that a copy of its store made too (same dot, other content, or covered here
/// without ever having been sent). The two copies parted before it.
public struct ClashingWrite: Error, Sendable, Hashable {
    public let dot: Dot

    public init(_ dot: Dot) {
        self.dot = dot
    }
}
