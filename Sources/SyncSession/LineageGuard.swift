import SyncCore
import SyncProtocol
import SyncStore
import Synchronization

/// What one connection knows of its replica's lineage at the daemon, shared by its request
/// loop and its live feed: once another device pushed under the same replica id (a copied
/// store), the connection's pushes and reads are refused with `replica_diverged`.
public final class LineageGuard: Sendable {
    public let replica: ReplicaID
    /// The daemon's newest token for the replica when the connection said hello, then the
    /// connection's own newest once it pushed; the tokens of a push in flight; and the
    /// replica's newest counter the client ever sent (its newest push tip, then its pushes').
    private let state: Mutex<(expected: String?, pushing: Set<String>, sentUpTo: Int64)>
    /// The replica's writes the client had sent (and had accepted) before this connection.
    private let sentBefore: CounterRanges

    /// `sent` is the client's own account (`hello.sent`); without it, every counter up to the
    /// newest push tip stands for it. A push's lineage entries run ahead of its records (a
    /// batch cut short carries the whole log), so the tip alone may count as sent a write
    /// still waiting.
    init(replica: ReplicaID, expected: String?, tips: [LineageEntry], sent: CounterRanges? = nil) {
        self.replica = replica
        let newestTip = tips.map(\.counter).max() ?? 0
        sentBefore = sent ?? CounterRanges(newestTip >= 1 ? [1...newestTip] : [])
        state = Mutex((expected, [], newestTip))
    }

    /// The claim a push carrying `entries` makes (announced first, so a concurrent read
    /// accepts them). The push's writes after the newest counter sent before it never left
    /// the device: should the daemon know of them, a copy of the store wrote them. The
    /// client had pulled through `seenThrough` when it read the push.
    func claim(_ entries: [LineageEntry], seenThrough: Int64? = nil) -> LineageClaim {
        state.withLock { state in
            state.pushing = Set(entries.map(\.token))
            return LineageClaim(
                replica: replica, expected: state.expected, entries: entries, freshAfter: state.sentUpTo,
                sentBeforeConnection: sentBefore, seenThrough: seenThrough)
        }
    }

    /// A push carrying `entries` landed: its newest entry is now the daemon's newest.
    func landed(_ entries: [LineageEntry]) {
        state.withLock { state in
            if let newest = entries.last {
                state.expected = newest.token
                state.sentUpTo = max(state.sentUpTo, newest.counter)
            }
            state.pushing = []
        }
    }

    /// Throws `replica_diverged` when the daemon's newest entry is neither the one expected
    /// nor one of a push in flight: call after reading, so what was read predates any push
    /// by another device.
    public func verify(_ store: SyncStore) throws(StoreError) {
        let newest = try store.newestLineageToken(of: replica)
        let (expected, pushing) = state.withLock { ($0.expected, $0.pushing) }
        guard newest == expected || newest.map(pushing.contains) == true else {
            throw SyncStore.divergedError(replica)
        }
    }

    /// The wire error for `error` (a store's `replica_diverged`), with the daemon's lineage:
    /// only its entries before the clashing write when one is named, for the two copies
    /// parted before it, whatever the daemon took in since.
    public func protocolError(_ error: StoreError, id: RequestID?, store: SyncStore) throws(StoreError)
        -> ProtocolError
    {
        var lineage = try store.lineage(of: replica)
        if let clashing = error.cause as? ClashingWrite {
            lineage.removeAll { $0.counter >= clashing.dot.counter }
        }
        return ProtocolError(.replicaDiverged, error.message, id: id, lineage: lineage)
    }
}
