import SyncCore

/// How a store is opened, beyond its location and schema.
public struct StoreOptions: Sendable {
    /// A registered SQLite VFS to open a file through (fault injection in tests).
    public var vfs: String?
    /// Keep a registry of every merged dot, to catch two devices sharing a replica id even
    /// when they write different records (a daemon does).
    public var registersDots: Bool
    /// The replica id a new store takes (the simulator's, so runs are reproducible); nil
    /// draws a random one. An existing store keeps its own.
    public var newReplicaID: ReplicaID?
    /// The furthest the hybrid clock may run ahead of the wall clock, in ms (nil: no bound):
    /// a merged timestamp further ahead is taken in only up to it (see `HybridLogicalClock`).
    public var maximumClockAhead: Int64? = StoreOptions.defaultMaximumClockAhead
    /// The default bound on how far ahead a clock may run: 15 minutes.
    public static let defaultMaximumClockAhead: Int64 = 15 * 60 * 1000
    /// Random 64-bit values for lineage tokens and new replica ids (the simulator injects a
    /// seeded source, so a run replays).
    public var random: @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) }
    /// Deliberate defects, for proving that the simulation harness catches them. Never set
    /// outside that self-test.
    @_spi(Defects) public var defects: StoreDefects = []
    /// Asked before each commit; true makes the transaction fail and roll back, as if the
    /// process had died there. The simulator's crash fault.
    @_spi(Simulation) public var crashBeforeCommit: (@Sendable () -> Bool)?

    public init(vfs: String? = nil, registersDots: Bool = false, newReplicaID: ReplicaID? = nil) {
        self.vfs = vfs
        self.registersDots = registersDots
        self.newReplicaID = newReplicaID
    }
}

/// Deliberately broken store behaviours, each one a bug the simulation harness must catch.
@_spi(Defects) public struct StoreDefects: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Merged registers keep only their winner and drop the siblings.
    public static let keepOnlyWinner = StoreDefects(rawValue: 1)
    /// Merging does not advance the hybrid clock.
    public static let clockNotAdvancedOnMerge = StoreDefects(rawValue: 2)
}
