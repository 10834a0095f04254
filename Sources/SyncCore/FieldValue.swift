/// A field's value: the JSON scalars, with integers kept apart from reals so SQLite columns
/// round-trip exactly.
public enum FieldValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case real(Double)
    case text(String)

    /// A total order used only to make choices deterministic (never a causal order).
    public static func precedes(_ lhs: FieldValue, _ rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.bool(let l), .bool(let r)): return !l && r
        case (.integer(let l), .integer(let r)): return l < r
        case (.real(let l), .real(let r)): return l < r
        case (.text(let l), .text(let r)): return utf8Precedes(l, r)
        default: return lhs.rank < rhs.rank
        }
    }

    private var rank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .integer: 2
        case .real: 3
        case .text: 4
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): value.debugDescription
        }
    }
}
