import GRDB
import SyncCore

extension SyncStore {
    /// Renamings known here, newest first: this store's own (`rekey`), or all of them.
    public func renamings(ownOnly: Bool = false, limit: Int = Int.max) throws(StoreError) -> [ReplicaRenaming] {
        try perform {
            try writer.read { db in
                try SyncStore.renamings(ownOnly: ownOnly, limit: limit, db)
            }
        }
    }

    /// How many renamings are known here.
    public func renamingCount() throws(StoreError) -> Int {
        try perform { try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM _sync_renamings") ?? 0 } }
    }

    /// The store's latest renaming (`rekey`), if it was ever renamed.
    public func lastRenaming() throws(StoreError) -> ReplicaRenaming? {
        try renamings(ownOnly: true, limit: 1).first
    }

    /// `state` as a merge with `incoming` sees it: the writes a known renaming moved moved
    /// too, where `incoming` shows the move (see `ReplicaRenaming.adopted`).
    public func adopting(in state: RecordState, shownBy incoming: RecordState) throws(StoreError) -> RecordState {
        let renamings = try renamings()
        return renamings.isEmpty ? state : SyncStore.adopting(renamings, in: state, evidence: [incoming])
    }

    static func renamings(ownOnly: Bool, limit: Int, _ db: Database) throws -> [ReplicaRenaming] {
        try Row.fetchAll(
            db,
            sql: "SELECT old, new, after, through FROM _sync_renamings WHERE own >= ? ORDER BY rowid DESC LIMIT ?",
            arguments: [ownOnly ? 1 : 0, limit]
        )
        .compactMap { row in
            guard let old = try? ReplicaID(row["old"] as String), let new = try? ReplicaID(row["new"] as String),
                old != new, let after: Int64 = row["after"], after >= 0
            else { return nil }
            return ReplicaRenaming(old: old, new: new, after: after, through: row["through"])
        }
    }

    static func recordRenaming(_ renaming: ReplicaRenaming, own: Bool, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO _sync_renamings (new, old, after, through, own) VALUES (?, ?, ?, ?, ?)",
            arguments: [renaming.new.rawValue, renaming.old.rawValue, renaming.after, renaming.through, own ? 1 : 0])
    }

    /// Takes in renamings other copies made (from the daemon). Records holding writes they
    /// moved move when the moving copy's record comes (see `merge`): it shows the move.
    /// Returns how many were new here.
    @discardableResult
    public func learn(_ renamings: [ReplicaRenaming]) throws(StoreError) -> Int {
        guard !renamings.isEmpty else { return 0 }
        return try transaction { db in
            var fresh = 0
            for renaming in renamings {
                try SyncStore.recordRenaming(renaming, own: false, db)
                fresh += db.changesCount
            }
            return fresh
        }
    }

    /// `state` with the writes each of `renamings` moved moved too, where one of `evidence`
    /// shows the move (see `ReplicaRenaming.adopted`).
    static func adopting(_ renamings: [ReplicaRenaming], in state: RecordState, evidence: [RecordState])
        -> RecordState
    {
        var state = state
        for renaming in renamings {
            for other in evidence {
                if let adopted = renaming.adopted(state, evidence: other) {
                    state = adopted
                    break
                }
            }
        }
        return state
    }

    /// The ids `replica` wrote as before it moved its writes (its renamings' old ids, back
    /// through every earlier move).
    static func formerIDs(of replica: ReplicaID, in renamings: [ReplicaRenaming]) -> Set<ReplicaID> {
        var former = Set<ReplicaID>()
        var frontier: Set<ReplicaID> = [replica]
        while !frontier.isEmpty {
            frontier = Set(renamings.filter { frontier.contains($0.new) }.map(\.old)).subtracting(former)
                .subtracting([replica])
            former.formUnion(frontier)
        }
        return former
    }

    /// Whether `record` holds a write a renaming moved, under either of its dots.
    static func holdsMovedWrite(_ record: KeyedRecord, of renamings: [ReplicaRenaming]) -> Bool {
        func moved(_ dot: Dot) -> Bool {
            renamings.contains { $0.moves(dot) || dot.replica == $0.new }
        }
        switch record.body {
        case .singleWrite(let write): return moved(write.dot)
        case .state(let state): return state.fields.contains { $0.register.values.contains { moved($0.dot) } }
        }
    }
}
