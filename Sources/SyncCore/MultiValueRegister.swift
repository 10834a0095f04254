/// A multi-value register: the causally maximal values written to one field.
///
/// One value means no conflict; several are concurrent writes (siblings), shown through a
/// deterministic winner. Values are kept sorted by dot, so equal registers are equal values.
/// The common single value is stored inline, without an array.
public struct MultiValueRegister: Hashable, Sendable {
    private enum Storage: Hashable, Sendable {
        case single(RegisterValue)
        /// Two or more values, sorted by dot.
        case siblings([RegisterValue])
    }

    private let storage: Storage

    /// A register holding one value.
    public init(_ value: RegisterValue) {
        storage = .single(value)
    }

    /// A register holding `values`, which must be non-empty and sorted by dot without repeats.
    public init(validating values: [RegisterValue]) throws(CoreError) {
        guard !values.isEmpty else { throw CoreError(.invalidState, "a register holds at least one value") }
        for index in values.indices.dropFirst() where !(values[index - 1].dot < values[index].dot) {
            throw CoreError(.invalidState, "register values must be sorted by dot without repeats")
        }
        self.init(sortedValues: values)
    }

    init(sortedValues values: [RegisterValue]) {
        storage = values.count == 1 ? .single(values[0]) : .siblings(values)
    }

    /// The values, sorted by dot, never empty.
    public var values: [RegisterValue] {
        switch storage {
        case .single(let value): [value]
        case .siblings(let values): values
        }
    }

    /// The value when there is exactly one.
    public var single: RegisterValue? {
        if case .single(let value) = storage { return value }
        return nil
    }

    /// The number of values held.
    public var count: Int {
        switch storage {
        case .single: 1
        case .siblings(let values): values.count
        }
    }

    /// Whether `context` has seen every value (a write with that context supersedes them all).
    public func isCovered(by context: VersionVector) -> Bool {
        switch storage {
        case .single(let value): context.covers(value.dot)
        case .siblings(let values): values.allSatisfy { context.covers($0.dot) }
        }
    }

    /// The visible value: the sibling that wins by (timestamp, replica id, counter).
    public var winner: RegisterValue {
        switch storage {
        case .single(let value):
            return value
        case .siblings(let values):
            var best = values[0]
            for candidate in values.dropFirst() where candidate.winsOver(best) {
                best = candidate
            }
            return best
        }
    }

    /// Whether concurrent writes disagree: siblings holding different values. Concurrent
    /// writes of one value (two puts both asserting `_deleted = false`) are kept for causality
    /// but are nothing to resolve.
    public var isConflict: Bool {
        guard case .siblings(let values) = storage else { return false }
        return values.dropFirst().contains { $0.value != values[0].value }
    }
}

/// The values, sorted by dot, walked in place: `for value in register` makes no array.
extension MultiValueRegister: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> RegisterValue {
        switch storage {
        case .single(let value):
            precondition(position == 0, "a single-valued register has one value")
            return value
        case .siblings(let values):
            return values[position]
        }
    }
}
