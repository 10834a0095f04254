import SyncCore
import SyncProtocol
import SyncStore

/// Reads a store's changes as one principal may see them. Immutable, so a live feed and the
/// request loop of one connection can both use it.
public struct ScopedReader: Sendable {
    public let store: SyncStore
    public let principal: Principal
    let policy: any AccessPolicy

    /// Per collection, what the principal can read at all: the scan reads only that.
    let scopes: [String: ReadScope]
    /// The reading replica's push lineage, checked after every read (nil: not checked).
    public let lineage: LineageGuard?
    /// How many renamings the reader was told of (in `welcome`, then in batches).
    let renamingsTold: RenamingTally

    public init(
        store: SyncStore, principal: Principal, policy: any AccessPolicy, lineage: LineageGuard? = nil,
        renamingsTold: Int = 0
    ) {
        self.store = store
        self.principal = principal
        self.policy = policy
        self.lineage = lineage
        self.renamingsTold = RenamingTally(renamingsTold)
        scopes = Dictionary(
            uniqueKeysWithValues: store.schema.collections.map {
                ($0.name, policy.readScope(of: $0.name, for: principal))
            })
    }

    /// The next batch of changes after `cursor` in scope, as wire records, leaving out the
    /// changes at the sequence numbers in `skipping` (the reader's own pushes, echoed back).
    /// Throws `replica_diverged` when another device pushed under the reader's replica id:
    /// the batch could hold that device's writes under the reader's own id.
    public func batch(after cursor: Int64, limit: Int, skipping: Set<Int64> = []) throws(StoreError) -> Batch {
        let policy = policy
        let principal = principal
        let batch = try store.changes(after: cursor, limit: limit, scopes: scopes) { change in
            (skipping.isEmpty || !skipping.contains(change.seq)) && policy.mayRead(change, by: principal)
        }
        try lineage?.verify(store)
        return Batch(records: KeyedRecord.groupedInRuns(batch.records), cursor: batch.nextCursor, more: batch.hasMore)
    }

    /// The next batch after `cursor` as a `changes` message, with its line (newline
    /// included) no longer than `maximumLine` bytes before the newline: a batch whose line
    /// would be longer is read again with half as many records, down to one record (sent
    /// even when it alone is longer: a merge of long siblings). `first` is a batch already
    /// read for these arguments (read ahead), tried first.
    public func changes(
        id: RequestID?, after cursor: Int64, limit: Int, skipping: Set<Int64> = [], maximumLine: Int,
        first: Batch? = nil
    ) throws(StoreError) -> (batch: Batch, message: DaemonMessage, line: [UInt8]) {
        var batch: Batch
        if let first {
            batch = first
        } else {
            batch = try self.batch(after: cursor, limit: limit, skipping: skipping)
        }
        let renamings = try renamingsToTell()
        while true {
            let message = DaemonMessage.changes(
                id: id, records: batch.records, cursor: batch.cursor, more: batch.more, renamings: renamings)
            let line = message.line()
            if line.count - 1 <= maximumLine || batch.records.count <= 1 { return (batch, message, line) }
            batch = try self.batch(after: cursor, limit: batch.records.count / 2, skipping: skipping)
        }
    }

    /// The daemon's renamings when they grew since the reader was last told (empty: none new).
    private func renamingsToTell() throws(StoreError) -> [ReplicaRenaming] {
        let known = try store.renamingCount()
        guard renamingsTold.raise(to: known) else { return [] }
        return try store.renamings(limit: ProtocolLimits.maximumRenamings)
    }

    /// A batch of changes as a pull answers them.
    public struct Batch: Sendable {
        public let records: [KeyedRecord]
        /// Where the next pull starts.
        public let cursor: Int64
        /// Whether changes remain after `cursor`.
        public let more: Bool
    }
}
