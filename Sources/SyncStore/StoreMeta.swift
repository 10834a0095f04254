import GRDB
import SyncCore

/// The store's persisted clocks: replica id, dot counter, hybrid clock and change sequence.
/// Read at the start of every write transaction and saved in it, so several processes sharing
/// the file never reuse a counter or a sequence number.
struct StoreMeta {
    var counter: Int64
    var clock: HybridLogicalClock
    var seq: Int64

    static func load(_ db: Database, physicalClock: any PhysicalClock) throws -> StoreMeta {
        guard let row = try Row.fetchOne(db, sql: "SELECT counter, hlc, seq FROM _sync_meta WHERE singleton = 1") else {
            throw StoreError(.storage, "the store has no metadata row")
        }
        return StoreMeta(
            counter: row[0],
            clock: HybridLogicalClock(physicalClock: physicalClock, latest: HybridTimestamp(rawValue: row[1])),
            seq: row[2])
    }

    func save(_ db: Database) throws {
        try db.execute(
            sql: "UPDATE _sync_meta SET counter = ?, hlc = ?, seq = ? WHERE singleton = 1",
            arguments: [counter, clock.latest.rawValue, seq])
    }

    /// The next sequence number for a changed record.
    mutating func nextSeq() -> Int64 {
        seq += 1
        return seq
    }
}
