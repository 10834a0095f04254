/// How a collection's records merge.
public enum MergePolicy: String, Sendable, Hashable {
    /// Each field is a multi-value register: concurrent edits of a field are kept as siblings.
    case multiValue
    /// Records are written once and never changed or deleted; duplicates merge into one.
    case immutable
}

/// A declared collection: its name, key, fields, merge policy and indexes. The store
/// materializes it as a real SQLite table of visible values.
public struct CollectionSchema: Sendable {
    /// The longest record key accepted, in UTF-8 bytes.
    public static let maximumKeyLength = 128

    public let name: String
    /// The key column's name.
    public let keyField: String
    /// The declared fields, key excluded, in column order.
    public let fields: [FieldSchema]
    public let policy: MergePolicy
    /// Secondary indexes, each a list of field names.
    public let indexes: [[String]]
    /// Field name to position in `fields`.
    private let positions: [String: Int]
    /// The field names in order, with their UTF-8 lengths, for quick scans.
    private let fieldNames: [(name: String, length: Int)]
    /// The fields in record-state order (by name), to walk beside a state's fields.
    private let fieldsByName: [FieldSchema]

    public init(
        name: String, keyField: String = "id", fields: [FieldSchema], policy: MergePolicy = .multiValue,
        indexes: [[String]] = []
    ) throws(CoreError) {
        for identifier in [name, keyField] + fields.map(\.name) where !CollectionSchema.isIdentifier(identifier) {
            throw CoreError(.invalidSchema, "\(identifier.debugDescription) is not a lower-case identifier")
        }
        let names = [keyField] + fields.map(\.name)
        guard Set(names).count == names.count else {
            throw CoreError(.invalidSchema, "collection \(name) declares a field twice")
        }
        for index in indexes {
            for column in index where !names.contains(column) {
                throw CoreError(.invalidSchema, "index on \(name) names unknown field \(column)")
            }
        }
        for field in fields {
            if let value = field.defaultValue { _ = try field.validate(value, in: name) }
        }
        self.name = name
        self.keyField = keyField
        self.fields = fields
        self.policy = policy
        self.indexes = indexes
        positions = Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1.name, $0) })
        fieldNames = fields.map { ($0.name, $0.name.utf8.count) }
        fieldsByName = fields.sorted { RecordState.namePrecedes($0.name, $1.name) }
    }

    /// The declared field named `name`.
    public func field(named name: String) -> FieldSchema? {
        positions[name].map { fields[$0] }
    }

    /// The position of the field named `name` in `fields`.
    public func position(of name: String) -> Int? {
        positions[name]
    }

    /// Checks a record key.
    public func validateKey(_ key: String) throws(CoreError) {
        guard !key.isEmpty, key.utf8.count <= CollectionSchema.maximumKeyLength,
            !CollectionSchema.hasControlCharacter(key)
        else {
            throw CoreError(
                .invalidKey,
                "\(name) key must be 1-\(CollectionSchema.maximumKeyLength) bytes without control characters (got \(key.debugDescription))"
            )
        }
    }

    /// Checks the values of one write, returning them in canonical form by field position
    /// (nil where the write gives no value).
    public func validateWrite(_ values: [String: FieldValue]) throws(CoreError) -> [FieldValue?] {
        var result = [FieldValue?](repeating: nil, count: fields.count)
        try validateWrite(values) { position, value in result[position] = value }
        return result
    }

    /// Checks the values of one write, handing each to `accept` in canonical form with its
    /// field position, in no particular order. Nothing is handed over after a refusal.
    public func validateWrite(
        _ values: [String: FieldValue], _ accept: (_ position: Int, _ value: FieldValue) -> Void
    ) throws(CoreError) {
        for (fieldName, value) in values {
            // Comparing a few short names (lengths first) beats hashing them.
            let length = fieldName.utf8.count
            var position = 0
            while position < fieldNames.count {
                if fieldNames[position].length == length && fieldNames[position].name == fieldName { break }
                position += 1
            }
            guard position < fieldNames.count else {
                throw CoreError(.unknownField, "\(name) has no field \(fieldName.debugDescription)")
            }
            accept(position, try fields[position].validate(value, in: name))
        }
    }

    /// Whether `string` holds a C0 or C1 control character (checked on UTF-8 bytes).
    static func hasControlCharacter(_ string: String) -> Bool {
        var previous: UInt8 = 0
        for byte in string.utf8 {
            if byte < 0x20 || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) { return true }
            previous = byte
        }
        return false
    }

    /// Checks a whole replicated state: known fields (plus `_deleted`), valid values.
    public func validateState(_ state: RecordState) throws(CoreError) {
        // Both in name order: walk the declared fields beside the state's, no look-ups.
        var declared = 0
        for stateField in state.fields {
            if stateField.name == RecordState.deletedField {
                for value in stateField.register
                where !(value.value == .bool(true) || value.value == .bool(false)) {
                    throw CoreError(.invalidValue, "\(name)._deleted must be a boolean (got \(value.value))")
                }
                continue
            }
            while declared < fieldsByName.count, RecordState.namePrecedes(fieldsByName[declared].name, stateField.name)
            {
                declared += 1
            }
            guard declared < fieldsByName.count, fieldsByName[declared].name == stateField.name else {
                throw CoreError(.unknownField, "\(name) has no field \(stateField.name.debugDescription)")
            }
            let field = fieldsByName[declared]
            for value in stateField.register {
                let canonical = try field.validate(value.value, in: name)
                guard canonical == value.value else {
                    throw CoreError(
                        .invalidValue, "\(name).\(field.name) must be a \(field.type.rawValue) (got \(value.value))")
                }
            }
        }
        if state.exists, state.register(of: RecordState.deletedField) == nil {
            throw CoreError(.invalidState, "a written \(name) record must carry _deleted")
        }
    }

    /// The first required field that `state` (merged with `stored`, when given) lacks, or holds
    /// as null or empty text; nil when it has them all, or was never written.
    public func missingRequiredField(in state: RecordState, merging stored: RecordState? = nil) -> String? {
        guard state.exists, let missing = firstMissingRequiredField(in: state) else { return nil }
        guard let stored else { return missing }
        return firstMissingRequiredField(in: stored.merged(with: state))
    }

    /// The first required field a single write (a new record) lacks, or gives as null or
    /// empty text.
    public func missingRequiredField(in write: SingleWrite) -> String? {
        for field in fields where field.isRequired {
            guard let index = write.names.firstIndex(of: field.name),
                write.values[index] != .null, write.values[index] != .text("")
            else { return field.name }
        }
        return nil
    }

    private func firstMissingRequiredField(in state: RecordState) -> String? {
        for field in fields where field.isRequired {
            guard let register = state.register(of: field.name),
                register.values.allSatisfy({ $0.value != .null && $0.value != .text("") })
            else { return field.name }
        }
        return nil
    }

    static func isIdentifier(_ string: String) -> Bool {
        guard let first = string.utf8.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z"),
            string.utf8.count <= 63
        else { return false }
        return string.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }
}
