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
    /// The replica's newest counter the client sent before this push (nil: not checked).
    /// The push's writes after it never left the device: one that a stored record's context
    /// already covers without holding it was seen elsewhere from a copy of the store (whose
    /// pushes a restore made the daemon forget), and the push is refused with
    /// `replica_diverged`, so this device moves.
    public let freshAfter: Int64?

    public init(replica: ReplicaID, expected: String?, entries: [LineageEntry], freshAfter: Int64? = nil) {
        self.replica = replica
        self.expected = expected
        self.entries = entries
        self.freshAfter = freshAfter
    }

    /// A write in `incoming` by this replica, never sent before, that `stored` covers
    /// without holding it.
    func coveredFreshWrite(in incoming: RecordState, stored: RecordState) -> Dot? {
        guard let freshAfter, stored.context[replica] > freshAfter else { return nil }
        let held = Set(stored.fields.flatMap { $0.register.values.map(\.dot) })
        for field in incoming.fields {
            for value in field.register.values where value.dot.replica == replica && value.dot.counter > freshAfter {
                if !held.contains(value.dot), stored.context.covers(value.dot) { return value.dot }
            }
        }
        return nil
    }
}
