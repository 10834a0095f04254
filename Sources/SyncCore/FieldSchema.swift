/// The SQL type a field is materialized as.
public enum FieldType: String, Sendable, Hashable, CaseIterable {
    case text
    case integer
    case real
    case boolean

    /// The column type in the materialized table.
    public var sqlType: String {
        switch self {
        case .text: "TEXT"
        case .integer: "INTEGER"
        case .real: "REAL"
        case .boolean: "INTEGER"
        }
    }
}

/// One declared field of a collection: its type and the values it accepts.
public final class FieldSchema: Sendable {
    public let name: String
    public let type: FieldType
    /// Whether a new record must give it (or have a default).
    public let isRequired: Bool
    /// Whether `null` is accepted.
    public let isNullable: Bool
    /// The only values accepted, when the field is an enumeration.
    public let allowedValues: [FieldValue]?
    /// The accepted numeric range for integer and real fields.
    public let range: ClosedRange<Double>?
    /// The longest text accepted, in UTF-8 bytes.
    public let maximumLength: Int
    /// The value a new record gets when the write does not give one.
    public let defaultValue: FieldValue?

    public init(
        _ name: String, _ type: FieldType, required: Bool = false, nullable: Bool = true,
        allowed: [FieldValue]? = nil, range: ClosedRange<Double>? = nil, maximumLength: Int = 4096,
        default defaultValue: FieldValue? = nil
    ) {
        self.name = name
        self.type = type
        self.isRequired = required
        self.isNullable = nullable
        self.allowedValues = allowed
        self.range = range
        self.maximumLength = maximumLength
        self.defaultValue = defaultValue
    }

    /// Checks `value` against the field, returning it in canonical form (an integer given for a
    /// real field becomes a real).
    public func validate(_ value: FieldValue, in collection: String) throws(CoreError) -> FieldValue {
        let canonical: FieldValue
        switch value {
        case .null:
            guard isNullable else { throw refusal(collection, value, "must not be null") }
            return .null
        case .text(let text):
            guard type == .text else { throw wrongType(collection, value) }
            guard text.utf8.count <= maximumLength else {
                throw refusal(collection, value, "is longer than \(maximumLength) bytes")
            }
            canonical = value
        case .integer(let number):
            switch type {
            case .integer: canonical = value
            case .real: canonical = .real(Double(number))
            default: throw wrongType(collection, value)
            }
            if range != nil { try check(Double(number), collection, value) }
        case .real(let number):
            guard type == .real else { throw wrongType(collection, value) }
            guard number.isFinite else { throw refusal(collection, value, "must be a finite number") }
            if range != nil { try check(number, collection, value) }
            // SQLite stores -0.0 as 0: keep one zero so states round-trip through columns.
            canonical = number == 0 ? .real(0) : value
        case .bool:
            guard type == .boolean else { throw wrongType(collection, value) }
            canonical = value
        }
        if let allowedValues, !allowedValues.contains(canonical) {
            let choices = allowedValues.map(\.description).joined(separator: ", ")
            throw refusal(collection, value, "must be one of \(choices)")
        }
        return canonical
    }

    private func wrongType(_ collection: String, _ value: FieldValue) -> CoreError {
        refusal(collection, value, "must be \(type == .integer ? "an" : "a") \(type.rawValue)")
    }

    private func check(_ number: Double, _ collection: String, _ value: FieldValue) throws(CoreError) {
        if let range, !range.contains(number) {
            throw refusal(
                collection, value,
                "must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound))")
        }
    }

    private func refusal(_ collection: String, _ value: FieldValue, _ reason: String) -> CoreError {
        CoreError(.invalidValue, "\(collection).\(name) \(reason) (got \(value))")
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}
