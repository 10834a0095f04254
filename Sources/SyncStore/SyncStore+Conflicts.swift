import GRDB
import SyncCore

extension SyncStore {
    /// Every field that holds concurrent values, optionally within one collection, ordered by
    /// collection, key and field.
    public func conflicts(in collection: String? = nil) throws(StoreError) -> [Conflict] {
        if let collection { _ = try table(collection) }
        let keys = try perform {
            try writer.read { db in
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT collection, key FROM _sync_conflicts WHERE ?1 IS NULL OR collection = ?1 ORDER BY collection, key",
                    arguments: [collection]
                ).map { (collection: $0[0] as String, key: $0[1] as String) }
            }
        }
        var result: [Conflict] = []
        for (collection, key) in keys {
            guard let state = try record(collection, key: key) else { continue }
            for field in state.fields where field.register.isConflict {
                result.append(
                    Conflict(
                        collection: collection, key: key, field: field.name, values: field.register.values,
                        winner: field.register.winner))
            }
        }
        return result
    }
}
