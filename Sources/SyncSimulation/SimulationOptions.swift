@_spi(Defects) import SyncSession
@_spi(Defects) import SyncStore

/// One simulation run's settings. The same options give the same run, byte for byte.
public struct SimulationOptions: Sendable {
    public var seed: UInt64
    /// Device replicas besides the daemon (stations, riders, an admin, a hotline desk).
    public var devices = 8
    /// Workload operations (local writes) before the network heals.
    public var operations = 200
    public var faults = FaultOptions()
    /// Records per push or pull batch (small, so conversations have many steps to cut).
    public var batchSize = 5

    /// The clock bound of every replica, in ms: four times the largest skew plus the daemon's
    /// default. A device's clock, set by the daemon's at one skew and jumped to the opposite
    /// one since, is at most four skews from what it took in, so no skewed device's write is
    /// refused `clock_ahead` and no clock falls back. The harness's history does not yet
    /// follow a write stamped again after such a refusal (the session tests prove that path).
    public var maximumClockAhead: Int64 {
        Int64(faults.skewSeconds) * 4_000 + StoreOptions.defaultMaximumClockAhead
    }
    /// Deliberately broken behaviours, for the harness's self-test.
    @_spi(Defects) public var storeDefects: StoreDefects = []
    @_spi(Defects) public var sessionDefects: SessionDefects = []

    public init(seed: UInt64) {
        self.seed = seed
    }
}
