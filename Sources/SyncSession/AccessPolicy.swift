import SyncCore
import SyncStore

/// Who may read and write which records. The engine asks; the domain answers.
public protocol AccessPolicy: Sendable {
    /// Why `principal` may not have written `fields` of `record`, or nil when it may.
    /// `stored` is the state the daemon holds for the record (nil for a new one). The engine
    /// asks once per author of the writes a push adds, with that author's principal.
    func refusal(
        toWrite record: KeyedRecord, stored: RecordState?, changing fields: Set<String>, by principal: Principal
    )
        -> AccessRefusal?

    /// Whether `principal` may read `change`.
    func mayRead(_ change: RecordChange, by principal: Principal) -> Bool

    /// Which records of `collection` `principal` can read at all, so a pull reads only those
    /// (by index) instead of filtering the whole store. Must never exclude what `mayRead`
    /// allows; by default, everything.
    func readScope(of collection: String, for principal: Principal) -> ReadScope

    /// The fields `readScope` narrows by, per collection: the daemon indexes them.
    var scopeIndexes: [String: [[String]]] { get }
}

extension AccessPolicy {
    public func readScope(of collection: String, for principal: Principal) -> ReadScope { .all }
    public var scopeIndexes: [String: [[String]]] { [:] }
}

/// Why a write is refused: a stable code and a readable reason.
public struct AccessRefusal: Sendable, Hashable {
    public let code: String
    public let message: String

    public init(code: String = "forbidden", _ message: String) {
        self.code = code
        self.message = message
    }
}

/// A policy that lets everyone read and write everything (tests, a single-user setup).
public struct OpenAccess: AccessPolicy {
    public init() {}

    public func refusal(
        toWrite record: KeyedRecord, stored: RecordState?, changing fields: Set<String>, by principal: Principal
    ) -> AccessRefusal? {
        nil
    }

    public func mayRead(_ change: RecordChange, by principal: Principal) -> Bool { true }
}
