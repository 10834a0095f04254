/// The replicated state of one record: a multi-value register per field plus the record's
/// causal context (a version vector covering every write this replica has seen for it).
///
/// Existence is the field `_deleted`: every put asserts `false`, a delete writes `true`, so a
/// delete concurrent with an edit is an ordinary visible conflict and nothing is lost.
public struct RecordState: Hashable, Sendable {
    /// The field that records existence.
    public static let deletedField = "_deleted"

    /// One field's register.
    public struct Field: Hashable, Sendable {
        public let name: String
        public let register: MultiValueRegister

        public init(name: String, register: MultiValueRegister) {
            self.name = name
            self.register = register
        }
    }

    /// The fields, sorted by name (byte order).
    public internal(set) var fields: [Field]
    /// Every dot this replica has seen for the record.
    public internal(set) var context: VersionVector

    /// A record nobody has written yet.
    public init() {
        fields = []
        context = VersionVector()
    }

    /// A state from its parts, refusing unsorted fields and values the context does not cover
    /// (a state no replica could have produced).
    public init(validatingFields fields: [Field], context: VersionVector) throws(CoreError) {
        for (index, field) in fields.enumerated() {
            if index > 0, !RecordState.namePrecedes(fields[index - 1].name, field.name) {
                throw CoreError(.invalidState, "record fields must be sorted by name without repeats")
            }
            for value in field.register where !context.covers(value.dot) {
                throw CoreError(.invalidState, "value of field \(field.name) has dot \(value.dot) outside the context")
            }
        }
        self.fields = fields
        self.context = context
    }

    /// A state from parts that are valid by construction (fields in name order, every dot in
    /// the context): for decoders inside the package that build them so, no checks.
    package init(orderedFields fields: [Field], context: VersionVector) {
        self.fields = fields
        self.context = context
    }

    /// Whether any write has reached this record.
    public var exists: Bool { !fields.isEmpty }

    /// Whether the visible (winning) existence is deleted.
    public var isDeleted: Bool {
        visibleValue(of: RecordState.deletedField) == .bool(true)
    }

    /// The register of `name`, if the field was ever written.
    public func register(of name: String) -> MultiValueRegister? {
        guard let index = index(of: name) else { return nil }
        return fields[index].register
    }

    /// The visible value of `name`: its register's winner.
    public func visibleValue(of name: String) -> FieldValue? {
        register(of: name)?.winner.value
    }

    /// The names of fields holding concurrent values.
    public var conflictingFieldNames: [String] {
        fields.filter { $0.register.isConflict }.map(\.name)
    }

    public var hasConflicts: Bool { fields.contains { $0.register.isConflict } }

    /// The dot and timestamp that most single-valued fields share (the first such on a tie),
    /// nil when no field has a single value: encodings write it once, as the default.
    public var commonStamp: RegisterValue? {
        var best: RegisterValue?
        var bestCount = 0
        for (index, field) in fields.enumerated() {
            guard let single = field.register.single else { continue }
            if let best, best.dot == single.dot, best.timestamp == single.timestamp { continue }
            let count = fields[index...].reduce(0) { count, other in
                guard let value = other.register.single, value.dot == single.dot, value.timestamp == single.timestamp
                else { return count }
                return count + 1
            }
            if count > bestCount {
                best = single
                bestCount = count
            }
        }
        return best
    }

    /// The largest hybrid timestamp held, to advance a receiver's clock.
    public var maximumTimestamp: HybridTimestamp {
        var result = HybridTimestamp.zero
        for field in fields {
            for value in field.register where value.timestamp > result { result = value.timestamp }
        }
        return result
    }

    /// The largest timestamp among the values whose write `context` has not seen: what a
    /// receiver holding `context` would take in new (nil when there is none).
    public func latestTimestamp(notCoveredBy context: VersionVector?) -> HybridTimestamp? {
        var result: HybridTimestamp?
        for field in fields {
            for value in field.register where context?.covers(value.dot) != true {
                if result.map({ value.timestamp > $0 }) ?? true { result = value.timestamp }
            }
        }
        return result
    }

    /// The values written by `replica` after `wallMillis`, made again as one new write: each
    /// keeps its field and value, under `dot` and `timestamp`; the siblings beside them stay.
    /// For a write stamped by a clock that ran ahead, which no peer took: the new write
    /// covers the old one (its replica's counter passed it), so nothing is lost. Nil when no
    /// value was written after `wallMillis`.
    public func restamped(
        writtenBy replica: ReplicaID, after wallMillis: Int64, as dot: Dot, at timestamp: HybridTimestamp
    )
        -> RecordState?
    {
        var restamped = false
        let newFields = fields.map { field -> Field in
            let values = field.register.values
            guard values.contains(where: { $0.dot.replica == replica && $0.timestamp.wallMillis > wallMillis }) else {
                return field
            }
            restamped = true
            var kept = values.filter { !($0.dot.replica == replica && $0.timestamp.wallMillis > wallMillis) }
            let newValue = values.last { $0.dot.replica == replica && $0.timestamp.wallMillis > wallMillis }!
            kept.append(RegisterValue(value: newValue.value, dot: dot, timestamp: timestamp))
            kept.sort { $0.dot < $1.dot }
            return Field(name: field.name, register: MultiValueRegister(sortedValues: kept))
        }
        guard restamped else { return nil }
        return RecordState(orderedFields: newFields, context: context.merging(VersionVector(single: dot)))
    }

    /// Puts `values` (a live write: `_deleted` is set to false with the same dot).
    ///
    /// - Parameter observed: the context the writer had seen; nil means this state's own
    ///   context, so the write supersedes every value of the fields it sets. A smaller
    ///   (stale) context keeps the values it had not seen as siblings.
    public mutating func put(
        _ values: [(name: String, value: FieldValue)], dot: Dot, timestamp: HybridTimestamp,
        observed: VersionVector? = nil
    ) {
        write(
            RecordState.inserting((RecordState.deletedField, .bool(false)), into: values), dot: dot,
            timestamp: timestamp, observed: observed)
    }

    /// Deletes the record: writes `_deleted = true`, superseding the existence values observed.
    public mutating func delete(dot: Dot, timestamp: HybridTimestamp, observed: VersionVector? = nil) {
        write([(RecordState.deletedField, .bool(true))], dot: dot, timestamp: timestamp, observed: observed)
    }

    /// Writes raw field values (one dot for all of them). A name given twice keeps its last value.
    public mutating func write(
        _ values: [(name: String, value: FieldValue)], dot: Dot, timestamp: HybridTimestamp,
        observed: VersionVector? = nil
    ) {
        let observed = observed ?? context
        let written =
            RecordState.isSorted(values) ? values : values.sorted { RecordState.namePrecedes($0.name, $1.name) }
        var result: [Field] = []
        result.reserveCapacity(fields.count + written.count)
        var existingIndex = 0
        var writtenIndex = 0
        while existingIndex < fields.count || writtenIndex < written.count {
            if writtenIndex == written.count
                || (existingIndex < fields.count
                    && RecordState.namePrecedes(fields[existingIndex].name, written[writtenIndex].name))
            {
                result.append(fields[existingIndex])
                existingIndex += 1
                continue
            }
            let (name, value) = written[writtenIndex]
            writtenIndex += 1
            if writtenIndex < written.count, written[writtenIndex].name == name { continue }
            let newValue = RegisterValue(value: value, dot: dot, timestamp: timestamp)
            var existing: MultiValueRegister?
            if existingIndex < fields.count, fields[existingIndex].name == name {
                existing = fields[existingIndex].register
                existingIndex += 1
            }
            let register: MultiValueRegister
            if let existing, !existing.isCovered(by: observed) {
                // A stale context: the values it had not seen stay as siblings.
                var kept = existing.values.filter { !observed.covers($0.dot) }
                kept.insert(newValue, at: kept.firstIndex { dot < $0.dot } ?? kept.count)
                register = MultiValueRegister(sortedValues: kept)
            } else {
                register = MultiValueRegister(newValue)
            }
            result.append(Field(name: name, register: register))
        }
        fields = result
        context.add(dot)
    }

    /// Whether `values` are sorted by name (repeats allowed).
    private static func isSorted(_ values: [(name: String, value: FieldValue)]) -> Bool {
        for index in values.indices.dropFirst() where namePrecedes(values[index].name, values[index - 1].name) {
            return false
        }
        return true
    }

    /// `values` with `entry` added at its place by name (when `values` are sorted).
    private static func inserting(
        _ entry: (name: String, value: FieldValue), into values: [(name: String, value: FieldValue)]
    ) -> [(name: String, value: FieldValue)] {
        var result = values
        result.insert(entry, at: values.firstIndex { !namePrecedes($0.name, entry.name) } ?? values.count)
        return result
    }

    /// The order fields are kept in: byte-wise on UTF-8, the same on every platform.
    public static func namePrecedes(_ lhs: String, _ rhs: String) -> Bool {
        utf8Precedes(lhs, rhs)
    }

    private func index(of name: String) -> Int? {
        var low = 0
        var high = fields.count
        while low < high {
            let middle = (low + high) / 2
            if RecordState.namePrecedes(fields[middle].name, name) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < fields.count && fields[low].name == name ? low : nil
    }
}
