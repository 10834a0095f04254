import GRDB
import SyncCore

extension SyncStore {
    /// How far the hybrid clock's wall clock is set from this machine's, in ms (0 until a
    /// daemon told its time).
    public func clockOffset() throws(StoreError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT clock_offset FROM _sync_meta") ?? 0 }
    }

    /// The wall clock the hybrid clock reads: this machine's plus the offset, in ms.
    public func clockNowMillis() throws(StoreError) -> Int64 {
        OffsetClock(base: physicalClock, offset: try clockOffset()).nowMillis()
    }

    /// Sets the hybrid clock by a peer's wall clock: `peerMillis` read at `localMillis` of
    /// this machine's. Differences under `tolerance` ms are noise (the time in flight) and
    /// keep the offset as it is. A clock that ran further ahead than the store's bound falls
    /// back to the corrected wall clock at its next write.
    @discardableResult
    public func setClock(peerMillis: Int64, at localMillis: Int64, tolerance: Int64 = 1_000) throws(StoreError)
        -> Int64
    {
        let wanted = min(
            max(peerMillis - localMillis, -HybridTimestamp.maximumWallMillis), HybridTimestamp.maximumWallMillis)
        return try transaction { db in
            let current = try Int64.fetchOne(db, sql: "SELECT clock_offset FROM _sync_meta") ?? 0
            guard abs(wanted - current) >= tolerance else { return current }
            try db.execute(sql: "UPDATE _sync_meta SET clock_offset = ?", arguments: [wanted])
            return wanted
        }
    }
}
