import SyncCore

/// A protocol-level refusal: a stable code, a readable message, and the id of the request it
/// answers when that much could be read. Sent as an `error` line.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code. Codes only ever grow; their strings never change.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The line is not JSON.
        public static let badJSON = Code("bad_json")
        /// The line is not UTF-8.
        public static let invalidUTF8 = Code("invalid_utf8")
        /// The line is JSON but not an object.
        public static let notObject = Code("not_object")
        /// `type` names no message of this protocol version.
        public static let unknownType = Code("unknown_type")
        /// A required member is absent.
        public static let missingField = Code("missing_field")
        /// A member has the wrong JSON type.
        public static let wrongType = Code("wrong_type")
        /// A member is out of range (a negative cursor, a limit of 0, a malformed record).
        public static let invalidValue = Code("invalid_value")
        /// The line is longer than the limit; the connection closes.
        public static let lineTooLong = Code("line_too_long")
        /// A request came before `hello`.
        public static let helloRequired = Code("hello_required")
        /// A second `hello` on one connection.
        public static let alreadyGreeted = Code("already_greeted")
        /// The client speaks a protocol version the daemon does not; the connection closes.
        public static let unsupportedProtocol = Code("unsupported_protocol")
        /// The token is malformed, forged, or carries no expiry; the connection closes.
        public static let badToken = Code("bad_token")
        /// The token's `exp` has passed; the connection closes.
        public static let tokenExpired = Code("token_expired")
        /// The token's subject was revoked after the token was issued; the connection closes.
        public static let tokenRevoked = Code("token_revoked")
        /// No `hello` in time, no request in the idle time, or a line not finished in time;
        /// the connection closes.
        public static let timeout = Code("timeout")
        /// The daemon holds as many connections as it takes (in all, or for this principal);
        /// the connection closes.
        public static let busy = Code("busy")
        /// A push holds more records than the daemon accepts in one batch.
        public static let tooManyRecords = Code("too_many_records")
        /// A write of this replica id clashes with one already held: two devices share it.
        public static let replicaClash = Code("replica_clash")
        /// Another device pushed under the client's replica id since the client last did (a
        /// copied store); `lineage` lists the daemon's recent lineage entries of the replica.
        /// The client moves its writes after the newest entry it shares to a new replica id;
        /// the connection closes.
        public static let replicaDiverged = Code("replica_diverged")
        /// The daemon failed; nothing of the request was committed.
        public static let internalError = Code("internal_error")
        /// The daemon is stopping; the connection closes.
        public static let shuttingDown = Code("shutting_down")
    }

    public let code: Code
    public let message: String
    /// The request this answers, when its id could be read.
    public let id: RequestID?
    /// For `replica_diverged`: the daemon's recent lineage entries of the replica, oldest first.
    public let lineage: [LineageEntry]?

    public init(_ code: Code, _ message: String, id: RequestID? = nil, lineage: [LineageEntry]? = nil) {
        self.code = code
        self.message = message
        self.id = id
        self.lineage = lineage
    }

    /// The same error answering request `id`.
    public func answering(_ id: RequestID?) -> ProtocolError {
        ProtocolError(code, message, id: id ?? self.id, lineage: lineage)
    }

    /// Whether the daemon closes the connection after sending this error.
    public var closesConnection: Bool {
        [
            .lineTooLong, .unsupportedProtocol, .badToken, .tokenExpired, .tokenRevoked, .timeout, .busy, .shuttingDown,
            .replicaDiverged,
        ].contains(code)
    }

    public var description: String { "\(code): \(message)" }
}

/// A request id: an integer or a string, echoed by the reply.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
    case integer(Int64)
    case string(String)

    public var json: JSONValue {
        switch self {
        case .integer(let number): .integer(number)
        case .string(let text): .string(text)
        }
    }

    public var description: String {
        switch self {
        case .integer(let number): String(number)
        case .string(let text): text.debugDescription
        }
    }
}
