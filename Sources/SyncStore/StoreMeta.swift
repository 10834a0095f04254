import GRDB
import SyncCore

/// The store's persisted clocks: replica id, dot counter, hybrid clock and change sequence.
/// Read at the start of every write transaction and saved in it, so several processes sharing
/// the file never reuse a counter or a sequence number, nor write under a replica id another
/// process has just renamed.
struct StoreMeta {
    var replica: ReplicaID
    var counter: Int64
    var clock: HybridLogicalClock
    var seq: Int64

    /// Reads the metadata row; the hybrid clock runs on `store`'s wall clock plus the saved
    /// offset, bounded by its `maximumClockAhead`.
    static func load(_ db: Database, store: SyncStore) throws -> StoreMeta {
        let statement = try db.cachedStatement(
            sql: "SELECT counter, hlc, seq, replica_id, clock_offset FROM _sync_meta WHERE singleton = 1")
        guard let row = try Row.fetchOne(statement) else {
            throw StoreError(.storage, "the store has no metadata row")
        }
        let offset: Int64 = row[4]
        let physical: any PhysicalClock =
            offset == 0 ? store.physicalClock : OffsetClock(base: store.physicalClock, offset: offset)
        return StoreMeta(
            replica: ReplicaID(unchecked: row[3]), counter: row[0],
            clock: HybridLogicalClock(
                physicalClock: physical, latest: HybridTimestamp(rawValue: row[1]),
                maximumAhead: store.options.maximumClockAhead),
            seq: row[2])
    }

    func save(_ db: Database) throws {
        try db.execute(
            sql: "UPDATE _sync_meta SET replica_id = ?, counter = ?, hlc = ?, seq = ? WHERE singleton = 1",
            arguments: [replica.rawValue, counter, clock.latest.rawValue, seq])
    }

    /// The next sequence number for a changed record.
    mutating func nextSeq() -> Int64 {
        seq += 1
        return seq
    }
}
