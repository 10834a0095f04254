/// Moves a replica's writes after a counter to a new replica id: what a device does when it
/// learns that a copy of its store wrote under the same id (the two diverged after `after`).
///
/// Dot `old:k` with `k > after` becomes `new:(k - after)`; dots up to `after` are the history
/// both copies share and keep their id. A context entry `old:n` with `n > after` becomes
/// `old:after` plus `new:(n - after)`: every counter of `old` past `after` that this replica
/// holds is one of its own writes (it never takes in the other copy's), so the mapping is exact.
public struct ReplicaRenaming: Hashable, Sendable, CustomStringConvertible {
    public let old: ReplicaID
    public let new: ReplicaID
    /// The last counter of `old` the two copies share.
    public let after: Int64

    public init(old: ReplicaID, new: ReplicaID, after: Int64) {
        precondition(old != new && after >= 0, "a renaming moves writes to another replica id")
        self.old = old
        self.new = new
        self.after = after
    }

    /// Whether the renaming changes `dot`.
    public func moves(_ dot: Dot) -> Bool {
        dot.replica == old && dot.counter > after
    }

    public func renamed(_ dot: Dot) -> Dot {
        moves(dot) ? Dot(replica: new, counter: dot.counter - after) : dot
    }

    public func renamed(_ vector: VersionVector) -> VersionVector {
        let counter = vector[old]
        guard counter > after else { return vector }
        var counters = Dictionary(uniqueKeysWithValues: vector.entries.map { ($0.replica, $0.counter) })
        counters[old] = after > 0 ? after : nil
        counters[new] = max(counters[new] ?? 0, counter - after)
        return VersionVector(counters)
    }

    /// Whether the renaming changes anything in `state`.
    public func moves(_ state: RecordState) -> Bool {
        state.context[old] > after
    }

    public func renamed(_ state: RecordState) -> RecordState {
        guard moves(state) else { return state }
        let fields = state.fields.map { field in
            let values = field.register.values.map {
                RegisterValue(value: $0.value, dot: renamed($0.dot), timestamp: $0.timestamp)
            }
            return RecordState.Field(
                name: field.name, register: MultiValueRegister(sortedValues: values.sorted { $0.dot < $1.dot }))
        }
        return RecordState(orderedFields: fields, context: renamed(state.context))
    }

    public var description: String { "\(old):(\(after)+k) -> \(new):k" }
}
