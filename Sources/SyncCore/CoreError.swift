/// An error from the core model, with a stable code callers and the wire protocol can match on.
public struct CoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable error code. Codes only ever grow; their strings never change.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidReplicaID = Code("invalid_replica_id")
        public static let invalidKey = Code("invalid_key")
        public static let invalidState = Code("invalid_state")
        public static let unknownCollection = Code("unknown_collection")
        public static let unknownField = Code("unknown_field")
        public static let invalidValue = Code("invalid_value")
        public static let missingField = Code("missing_field")
        public static let immutableRecord = Code("immutable_record")
        public static let invalidSchema = Code("invalid_schema")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
