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
    /// connection's own newest once it pushed; and the tokens of a push in flight.
    private let state: Mutex<(expected: String?, pushing: Set<String>)>

    init(replica: ReplicaID, expected: String?) {
        self.replica = replica
        state = Mutex((expected, []))
    }

    /// The claim a push carrying `entries` makes (announced first, so a concurrent read
    /// accepts them).
    func claim(_ entries: [LineageEntry]) -> LineageClaim {
        state.withLock { state in
            state.pushing = Set(entries.map(\.token))
            return LineageClaim(replica: replica, expected: state.expected, entries: entries)
        }
    }

    /// A push carrying `entries` landed: its newest entry is now the daemon's newest.
    func landed(_ entries: [LineageEntry]) {
        state.withLock { state in
            if let newest = entries.last { state.expected = newest.token }
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

    /// The wire error for `error` (a store's `replica_diverged`), with the daemon's lineage.
    public func protocolError(_ error: StoreError, id: RequestID?, store: SyncStore) throws(StoreError)
        -> ProtocolError
    {
        ProtocolError(.replicaDiverged, error.message, id: id, lineage: try store.lineage(of: replica))
    }
}
