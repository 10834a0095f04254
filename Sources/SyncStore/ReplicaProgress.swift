import GRDB
import SyncCore

/// How far this store holds each replica's writes: the highest counter of each replica seen
/// in any merged record's context. A client compares its own entry with what it knows it
/// pushed, to notice a store restored from an older copy.
struct ReplicaProgress {
    private var highest: [ReplicaID: Int64] = [:]

    mutating func include(_ context: VersionVector) {
        for entry in context.entries where entry.counter > highest[entry.replica, default: 0] {
            highest[entry.replica] = entry.counter
        }
    }

    func save(_ db: Database) throws {
        for (replica, counter) in highest {
            try db.execute(
                sql: """
                    INSERT INTO _sync_replicas (replica, holds) VALUES (?, ?)
                    ON CONFLICT (replica) DO UPDATE SET holds = max(holds, excluded.holds)
                    """,
                arguments: [replica.rawValue, counter])
        }
    }
}
