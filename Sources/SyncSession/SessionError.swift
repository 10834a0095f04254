import SyncCore
import SyncProtocol
import SyncStore

/// An error ending or refusing part of a sync session, with a stable code (the wire codes).
public struct SessionError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    /// For `replica_diverged`: how the store was renamed to resolve it.
    public var renaming: ReplicaRenaming?

    public init(code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: ProtocolError) {
        self.init(code: error.code.rawValue, error.message)
    }

    public init(_ error: StoreError) {
        self.init(code: error.code.rawValue, error.message)
    }

    /// Another conversation of the same store pushed during this one (not a wire code): the
    /// conversation stopped; a new one goes through.
    public static let concurrentPush = "concurrent_push"

    /// The daemon accepted the connection but did not answer in time (not a wire code).
    public static let noAnswer = "no_answer"

    public var description: String { "\(code): \(message)" }
}
