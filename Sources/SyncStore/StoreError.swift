import SyncCore

/// An error from the store, with a stable code (shared with the wire protocol), a readable
/// message and, where SQLite or the core refused something, the underlying cause.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A stable error code. Codes only ever grow; their strings never change.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// SQLite failed (I/O error, full disk, busy past the timeout, ...).
        public static let storage = Code("storage_error")
        /// A stored record state could not be decoded.
        public static let corruptState = Code("corrupt_state")
        /// One dot carries different content on two sides: two devices share a replica id.
        public static let replicaClash = Code("replica_clash")
        /// Another device pushed under this replica id since the pusher last did: a copied store.
        public static let replicaDiverged = Code("replica_diverged")
        /// The file was made for a different declaration of a collection.
        public static let schemaMismatch = Code("schema_mismatch")
        /// The record or conflict asked for does not exist.
        public static let notFound = Code("not_found")
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// Carries a core refusal (invalid value, unknown field, ...) with its code unchanged.
    public init(_ error: CoreError) {
        self.init(Code(error.code.rawValue), error.message, cause: error)
    }

    /// A refusal with one of the core's codes.
    public init(core code: CoreError.Code, _ message: String) {
        self.init(Code(code.rawValue), message, cause: CoreError(code, message))
    }

    public var description: String { "\(code): \(message)" }
}
