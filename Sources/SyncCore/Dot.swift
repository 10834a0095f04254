/// The identity of one write: the replica that made it and that replica's counter at the time.
///
/// A replica bumps and persists its counter in the same transaction as the write, so a dot
/// names exactly one write for ever.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let replica: ReplicaID
    /// The replica's counter, starting at 1. Int64 because SQLite has no unsigned 64-bit integer.
    public let counter: Int64
    /// The largest counter a replica may reach (2^53 - 1: exact in every JSON reader, and
    /// far from overflowing when counters are added to or moved).
    public static let maximumCounter: Int64 = (1 << 53) - 1

    public init(replica: ReplicaID, counter: Int64) {
        precondition(counter > 0, "dot counters start at 1")
        self.replica = replica
        self.counter = counter
    }

    /// Orders by replica, then counter: a storage order, not a causal one.
    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        lhs.replica == rhs.replica ? lhs.counter < rhs.counter : lhs.replica < rhs.replica
    }

    public var description: String { "\(replica):\(counter)" }
}
