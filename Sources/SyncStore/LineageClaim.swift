import SyncCore

/// A push's claim on its replica's lineage, checked and recorded in the push's transaction.
///
/// Every write transaction on a device mints a random token (its lineage log). Pushes carry
/// the entries the daemon has not seen; the daemon keeps each replica's recent entries. A push
/// lands only while the daemon's newest entry is the one its session started from, or one of
/// its own: two devices that share a replica id (a copied store) cannot both pass, for the
/// second to push after the copy meets an entry it never wrote.
public struct LineageClaim: Sendable, Hashable {
    public let replica: ReplicaID
    /// The daemon's newest token for the replica when the session began (nil: none).
    public let expected: String?
    /// The log entries the push carries, oldest first (empty: checked, nothing recorded).
    public let entries: [LineageEntry]

    public init(replica: ReplicaID, expected: String?, entries: [LineageEntry]) {
        self.replica = replica
        self.expected = expected
        self.entries = entries
    }
}
