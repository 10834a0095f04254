import SyncCore

/// A field holding concurrent values: every sibling, and the one shown meanwhile.
public struct Conflict: Sendable, Hashable {
    public let collection: String
    public let key: String
    public let field: String
    /// The siblings, sorted by dot.
    public let values: [RegisterValue]
    /// The deterministic winner, shown as the visible value until someone resolves it.
    public let winner: RegisterValue
}
