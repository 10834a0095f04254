import SyncCore

extension LineageEntry {
    /// Entries as the wire carries them: an array of `{"token": ..., "counter": ...}`.
    static func json(_ entries: [LineageEntry]) -> JSONValue {
        .array(entries.map { .object(["token": .string($0.token), "counter": .integer($0.counter)]) })
    }
}
