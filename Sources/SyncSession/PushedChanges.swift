import SyncCore

/// What a pushed record would add at the daemon, by author: the fields carrying writes the
/// daemon has not seen, grouped by the replica that wrote them. Usually that is the pusher;
/// after a daemon was restored from a backup, a device also passes along others' writes.
public struct PushedChanges: Sendable, Hashable {
    /// Each author's fields, authors in replica order. `_deleted` counts only as a delete.
    public let byAuthor: [(author: ReplicaID, fields: Set<String>)]

    public init(record: RecordState, stored: RecordState?) {
        var fields: [ReplicaID: Set<String>] = [:]
        for field in record.fields {
            for value in field.register where stored?.context.covers(value.dot) != true {
                // Every put asserts existence; only a delete changes it on purpose.
                if field.name == RecordState.deletedField, value.value != .bool(true) { continue }
                fields[value.dot.replica, default: []].insert(field.name)
            }
        }
        byAuthor = fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Whether the record adds nothing the daemon lacks.
    public var isEmpty: Bool { byAuthor.isEmpty }

    public static func == (lhs: PushedChanges, rhs: PushedChanges) -> Bool {
        lhs.byAuthor.elementsEqual(rhs.byAuthor) { $0.author == $1.author && $0.fields == $1.fields }
    }

    public func hash(into hasher: inout Hasher) {
        for (author, fields) in byAuthor {
            hasher.combine(author)
            hasher.combine(fields)
        }
    }
}
