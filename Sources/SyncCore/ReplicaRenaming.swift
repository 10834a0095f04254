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
    /// The last counter of `old` the moving copy wrote (nil: not known): a write of `old`
    /// after it is the other copy's.
    public let through: Int64?

    public init(old: ReplicaID, new: ReplicaID, after: Int64, through: Int64? = nil) {
        precondition(old != new && after >= 0, "a renaming moves writes to another replica id")
        self.old = old
        self.new = new
        self.after = after
        self.through = through.map { max($0, after) }
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
        // What the state saw of the new id: a moved write it saw there and no longer holds
        // there was written over (the state took it in under both dots, see `adopted`).
        let seenMoved = state.context[new]
        let fields = state.fields.map { field in
            let heldMoved = Set(field.register.values.lazy.filter { $0.dot.replica == self.new }.map(\.dot))
            var values = field.register.values.compactMap { value -> RegisterValue? in
                guard moves(value.dot) else { return value }
                let dot = renamed(value.dot)
                if dot.counter <= seenMoved, !heldMoved.contains(dot) { return nil }
                return RegisterValue(value: value.value, dot: dot, timestamp: value.timestamp)
            }
            values.sort { $0.dot < $1.dot }
            // A write held under both its dots is one value.
            values = values.enumerated().filter { $0.offset == 0 || values[$0.offset - 1].dot != $0.element.dot }
                .map(\.element)
            return RecordState.Field(name: field.name, register: MultiValueRegister(sortedValues: values))
        }
        return RecordState(orderedFields: fields, context: renamed(state.context))
    }

    /// `state` as held by a store that took in writes of `old` past `after` from the copy
    /// that has since moved them (another device saw them before the move), or nil.
    ///
    /// The record's history past `after` is that copy's, and moves as the copy moved it, when
    /// `evidence` (the record as the copy's side holds it) shows one of those writes under its
    /// new dot (same field, timestamp and value; `_deleted` alone does not tell writes apart)
    /// and contradicts none: each other one is there too, or was written over there (its new
    /// dot is covered and gone, its old one never seen there). Otherwise the writes are the
    /// other copy's, or cannot surely be told, and nothing moves; so too when the record saw
    /// `old` past `through`. `evidence` may be `state` itself, when the store took in the
    /// moved writes beside the ones it held.
    public func adopted(_ state: RecordState, evidence: RecordState) -> RecordState? {
        guard moves(state), state.context[old] <= through ?? .max else { return nil }
        var shown = false
        for field in state.fields {
            let theirs = evidence.register(of: field.name)
            for value in field.register.values where moves(value.dot) {
                let dot = renamed(value.dot)
                if let same = theirs?.values.first(where: { $0.dot == dot }) {
                    guard same.timestamp == value.timestamp, same.value == value.value else { return nil }
                    // Every put writes `_deleted`: it alone does not tell two writes apart.
                    if field.name != RecordState.deletedField { shown = true }
                } else if evidence.context.covers(value.dot) || !evidence.context.covers(dot) {
                    // Seen there under its old dot too (the other copy's write, written over),
                    // or never seen there: not the moving copy's, or not surely.
                    return nil
                }
            }
        }
        return shown ? renamed(state) : nil
    }

    public var description: String { "\(old):(\(after)+k) -> \(new):k" }
}
