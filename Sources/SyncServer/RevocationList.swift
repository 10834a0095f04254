import Foundation
import SyncProtocol
import SyncStore
import Synchronization

/// A revocation: every token of `subject` (of `role`, or any role when nil) issued before
/// `before` (ms since the epoch) is refused. Tokens issued later are valid again.
public struct Revocation: Sendable, Hashable {
    public let subject: String
    public let role: String?
    public let before: Int64

    public init(subject: String, role: String?, before: Int64) {
        self.subject = subject
        self.role = role
        self.before = before
    }

    /// Whether this revocation refuses `payload`.
    public func revokes(_ payload: TokenPayload) -> Bool {
        payload.subject == subject && (role == nil || payload.role == role) && payload.issuedAt < before
    }

    var json: JSONValue {
        var members: [JSONValue.Member] = [.init("subject", .string(subject))]
        if let role { members.append(.init("role", .string(role))) }
        members.append(.init("before", .integer(before)))
        return .object(members)
    }
}

/// The revocations kept in the data directory (`revocations.json`, owner-only), written by
/// `yongai-syncd revoke` and read again by the daemon whenever the file changes.
public final class RevocationList: Sendable {
    public let path: String
    private let state = Mutex<(bytes: [UInt8]?, entries: [Revocation])>((nil, []))

    /// The list at `path` (empty while the file does not exist).
    public init(path: String) throws {
        self.path = path
        _ = try reload()
    }

    /// Reads the file again; true when it changed since the last read.
    @discardableResult
    public func reload() throws -> Bool {
        let bytes = FileManager.default.contents(atPath: path).map(Array.init)
        guard bytes != state.withLock({ $0.bytes }) else { return false }
        let entries = try bytes.map { try Self.parse($0, path: path) } ?? []
        state.withLock { $0 = (bytes, entries) }
        return true
    }

    public var entries: [Revocation] { state.withLock { $0.entries } }

    /// The revocation refusing `payload`, if any.
    public func revoking(_ payload: TokenPayload) -> Revocation? {
        state.withLock { $0.entries.first { $0.revokes(payload) } }
    }

    /// Adds `revocation` to the file at `path` (read, extended and replaced whole).
    public static func add(_ revocation: Revocation, at path: String) throws {
        // Two revocations at once must not lose one: a lock beside the file orders them.
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else {
            if lock >= 0 { close(lock) }
            throw StoreError(.storage, "cannot lock \(path).lock")
        }
        defer { close(lock) }
        let current = try FileManager.default.contents(atPath: path).map { try parse(Array($0), path: path) } ?? []
        // One entry per subject and role: the latest time wins (it covers the earlier ones).
        let kept = current.filter { $0.subject != revocation.subject || $0.role != revocation.role }
        let entries = (kept + [revocation]).map(\.json)
        try PrivateFile.replace(JSONWriter.encode(.object([.init("revocations", .array(entries))])), at: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> [Revocation] {
        guard let json = try? JSONParser.parse(bytes), case .array(let items)? = json["revocations"] else {
            throw StoreError(.corruptState, "\(path) is not a revocation list")
        }
        return try items.map { item in
            guard case .string(let subject)? = item["subject"], case .integer(let before)? = item["before"] else {
                throw StoreError(.corruptState, "\(path) holds a malformed revocation")
            }
            var role: String?
            if case .string(let value)? = item["role"] { role = value }
            return Revocation(subject: subject, role: role, before: before)
        }
    }
}
