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
    /// The replica's writes the client had sent before this connection (nil: not checked).
    /// A write of the replica not among them (nor up to `sharedThrough`) that the daemon's dot
    /// registry meets for the first time never left the device before: it arrives fresh, and
    /// the registry notes where.
    public let sentBeforeConnection: CounterRanges?
    /// The daemon's sequence number through which the client had pulled when it read the
    /// push (nil: not told). Another device's write that arrived fresh (sent for the first
    /// time) after it cannot be one the pusher saw: a pushed record counting it as seen
    /// without holding it saw a copy's write under that dot, and is refused as a clash.
    public let seenThrough: Int64?
    /// The replica's counter through which some copy of its store, moving to a new replica
    /// id, found its writes shared with another (a renaming's `after`): either copy may have
    /// sent one of those, so none of them counts as never sent.
    var sharedThrough: Int64 = 0

    public init(
        replica: ReplicaID, expected: String?, entries: [LineageEntry], freshAfter: Int64? = nil,
        sentBeforeConnection: CounterRanges? = nil, seenThrough: Int64? = nil
    ) {
        self.replica = replica
        self.expected = expected
        self.entries = entries
        self.freshAfter = freshAfter
        self.sentBeforeConnection = sentBeforeConnection
        self.seenThrough = seenThrough
    }

    /// Whether `dot`, new to the daemon's registry, is a write its author sends for the first time.
    func arrivesFresh(_ dot: Dot) -> Bool {
        guard let sentBeforeConnection else { return false }
        return dot.replica == replica && dot.counter > sharedThrough && !sentBeforeConnection.contains(dot.counter)
    }

    /// Writes of others that `stored` holds and `incoming` counts as seen without holding:
    /// the ones the pusher wrote over, or (when one arrived fresh after `seenThrough`) a
    /// copy's write it took for them. `former` are ids the pusher wrote as before it moved.
    func writtenOver(in incoming: RecordState, stored: RecordState, former: Set<ReplicaID>) -> [Dot] {
        guard seenThrough != nil else { return [] }
        let held = Set(incoming.fields.flatMap { $0.register.values.map(\.dot) })
        var dots: [Dot] = []
        for field in stored.fields {
            for value in field.register.values where value.dot.replica != replica && !former.contains(value.dot.replica)
            {
                if incoming.context.covers(value.dot), !held.contains(value.dot), !dots.contains(value.dot) {
                    dots.append(value.dot)
                }
            }
        }
        return dots
    }

    /// A write in `incoming` by this replica, never sent before, that `stored` covers
    /// without holding it: one after `freshAfter`, or one of `arrived` (writes not in
    /// `sentBeforeConnection` the daemon's registry met for the first time, whatever batch
    /// of the connection they came in).
    func coveredFreshWrite(in incoming: RecordState, stored: RecordState, arrived: [Dot] = []) -> Dot? {
        let fresh = max(freshAfter ?? .max, sharedThrough)
        guard stored.context[replica] > fresh || !arrived.isEmpty else { return nil }
        let held = Set(stored.fields.flatMap { $0.register.values.map(\.dot) })
        for field in incoming.fields {
            for value in field.register.values
            where value.dot.replica == replica && (value.dot.counter > fresh || arrived.contains(value.dot)) {
                if !held.contains(value.dot), stored.context.covers(value.dot) { return value.dot }
            }
        }
        return nil
    }
}
