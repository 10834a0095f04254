import SyncCore

/// What one merge batch did.
public struct MergeSummary: Sendable {
    /// Records this store had never seen.
    public var new = 0
    /// Known records whose state grew.
    public var changed = 0
    /// Records the store already held in full (duplicates, echoes).
    public var unchanged = 0
    /// Merged records that now hold a conflict.
    public var conflicts = 0
    /// The sequence numbers of merged records that now hold exactly the incoming state: the
    /// sender has them already, so a pull by the sender can skip them.
    public var echoes: [Int64] = []
    /// Records skipped because they clash with writes held here (index in the batch, why).
    public var clashes: [(index: Int, error: StoreError)] = []

    public init() {}
}
