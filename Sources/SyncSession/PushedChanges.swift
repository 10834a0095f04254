import SyncCore

/// What a pushed record would add at the daemon, split by who wrote it: the fields carrying
/// writes the daemon has not seen, made by the pushing replica itself (authored) or by others
/// and passed along (relayed, as after a daemon restored from a backup).
public struct PushedChanges: Sendable, Hashable {
    /// Fields the pusher wrote that the daemon has not seen. `_deleted` counts only as a delete.
    public let authored: Set<String>
    /// Fields other replicas wrote that the daemon has not seen.
    public let relayed: Set<String>

    public init(record: RecordState, stored: RecordState?, pusher: ReplicaID) {
        var authored = Set<String>()
        var relayed = Set<String>()
        for field in record.fields {
            for value in field.register.values where stored?.context.covers(value.dot) != true {
                // Every put asserts existence; only a delete changes it on purpose.
                if field.name == RecordState.deletedField, value.value != .bool(true) { continue }
                if value.dot.replica == pusher {
                    authored.insert(field.name)
                } else {
                    relayed.insert(field.name)
                }
            }
        }
        self.authored = authored
        self.relayed = relayed
    }

    /// Whether the record adds nothing the daemon lacks.
    public var isEmpty: Bool { authored.isEmpty && relayed.isEmpty }
}
