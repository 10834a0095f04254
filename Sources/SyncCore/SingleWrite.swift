/// A live record's state when one write made all of it: every field, existence included,
/// holds one value stamped with the same dot and timestamp, and the context is that dot.
///
/// New records, imports and check-ins are in this form, most records by far. It holds the
/// values as a plain list, without a register per field, so a store and the wire can move
/// them without building a `RecordState`; `state` gives the full state when one is needed.
public struct SingleWrite: Hashable, Sendable {
    public let dot: Dot
    public let timestamp: HybridTimestamp
    /// The written fields' names in name order, without `_deleted` (the write asserts existence).
    /// Records read together usually share one array.
    public let names: [String]
    /// The values, by position in `names`.
    public let values: [FieldValue]

    /// A single write from its parts, refusing unsorted or repeated names, `_deleted`, and a
    /// value count that does not match the names.
    public init(dot: Dot, timestamp: HybridTimestamp, validatingNames names: [String], values: [FieldValue])
        throws(CoreError)
    {
        guard names.count == values.count else {
            throw CoreError(.invalidState, "a single write has \(names.count) names and \(values.count) values")
        }
        try Self.validate(names: names)
        self.init(dot: dot, timestamp: timestamp, orderedNames: names, values: values)
    }

    /// Checks that `names` can name a single write's fields: in name order, no repeats, no `_deleted`.
    public static func validate(names: [String]) throws(CoreError) {
        for (index, name) in names.enumerated() {
            if name == RecordState.deletedField {
                throw CoreError(.invalidState, "a single write's fields leave out _deleted")
            }
            if index > 0, !RecordState.namePrecedes(names[index - 1], name) {
                throw CoreError(.invalidState, "record fields must be sorted by name without repeats")
            }
        }
    }

    /// A single write from parts valid by construction (names sorted, unique, without
    /// `_deleted`, one value each): for decoders inside the package, no checks.
    package init(dot: Dot, timestamp: HybridTimestamp, orderedNames names: [String], values: [FieldValue]) {
        self.dot = dot
        self.timestamp = timestamp
        self.names = names
        self.values = values
    }

    /// The single write `state` is, or nil when it is anything else (deleted, several
    /// writes, siblings, a wider context).
    public init?(_ state: RecordState) {
        guard state.context.entries.count == 1, let first = state.fields.first?.register.single else { return nil }
        let entry = state.context.entries[0]
        guard first.dot.replica == entry.replica, first.dot.counter == entry.counter else { return nil }
        var names: [String] = []
        var values: [FieldValue] = []
        names.reserveCapacity(state.fields.count - 1)
        values.reserveCapacity(state.fields.count - 1)
        var exists = false
        for field in state.fields {
            guard let value = field.register.single, value.dot == first.dot, value.timestamp == first.timestamp else {
                return nil
            }
            if field.name == RecordState.deletedField {
                guard value.value == .bool(false) else { return nil }
                exists = true
            } else {
                names.append(field.name)
                values.append(value.value)
            }
        }
        guard exists else { return nil }
        self.init(dot: first.dot, timestamp: first.timestamp, orderedNames: names, values: values)
    }

    /// The full replicated state.
    public var state: RecordState {
        var fields: [RecordState.Field] = []
        fields.reserveCapacity(names.count + 1)
        var existence: RecordState.Field? = RecordState.Field(
            name: RecordState.deletedField,
            register: MultiValueRegister(RegisterValue(value: .bool(false), dot: dot, timestamp: timestamp)))
        for (name, value) in zip(names, values) {
            if let field = existence, RecordState.namePrecedes(field.name, name) {
                fields.append(field)
                existence = nil
            }
            fields.append(
                RecordState.Field(
                    name: name,
                    register: MultiValueRegister(RegisterValue(value: value, dot: dot, timestamp: timestamp))
                ))
        }
        if let existence { fields.append(existence) }
        return RecordState(orderedFields: fields, context: VersionVector(single: dot))
    }

    /// The value of `name` (`_deleted` is false), nil when the write did not set it.
    public func value(of name: String) -> FieldValue? {
        if name == RecordState.deletedField { return .bool(false) }
        return names.firstIndex(of: name).map { values[$0] }
    }
}
