/// A multi-value register: the causally maximal values written to one field.
///
/// One value means no conflict; several are concurrent writes (siblings), shown through a
/// deterministic winner. Values are kept sorted by dot, so equal registers are equal values.
public struct MultiValueRegister: Hashable, Sendable {
    /// The values, sorted by dot, never empty.
    public let values: [RegisterValue]

    /// A register holding one value.
    public init(_ value: RegisterValue) {
        values = [value]
    }

    /// A register holding `values`, which must be non-empty and sorted by dot without repeats.
    public init(validating values: [RegisterValue]) throws(CoreError) {
        guard !values.isEmpty else { throw CoreError(.invalidState, "a register holds at least one value") }
        for index in values.indices.dropFirst() where !(values[index - 1].dot < values[index].dot) {
            throw CoreError(.invalidState, "register values must be sorted by dot without repeats")
        }
        self.values = values
    }

    init(sortedValues: [RegisterValue]) {
        values = sortedValues
    }

    /// The visible value: the sibling that wins by (timestamp, replica id, counter).
    public var winner: RegisterValue {
        var best = values[0]
        for candidate in values.dropFirst() where candidate.winsOver(best) {
            best = candidate
        }
        return best
    }

    /// Whether concurrent writes disagree: siblings holding different values. Concurrent
    /// writes of one value (two puts both asserting `_deleted = false`) are kept for causality
    /// but are nothing to resolve.
    public var isConflict: Bool {
        values.count > 1 && values.dropFirst().contains { $0.value != values[0].value }
    }
}
