/// A hybrid logical clock (Kulkarni et al., 2014).
///
/// Its readings stay close to wall-clock time but never go backwards, and a reading taken after
/// receiving a timestamp is always larger than it, so a write that causally follows another
/// has a larger timestamp whatever the two wall clocks say.
///
/// A clock with a bound (`maximumAhead`) never runs further ahead of its wall clock than that:
/// a remote timestamp beyond it is taken in only up to the bound, and a stored reading beyond
/// it (taken in before the bound existed) falls back to the wall clock. One device whose clock
/// runs ahead, or lies, cannot drag every replica's clock forward for good. Every operation
/// saturates at the largest timestamp instead of trapping.
public struct HybridLogicalClock: Sendable {
    /// The last timestamp issued or received.
    public private(set) var latest: HybridTimestamp
    private let physicalClock: any PhysicalClock
    /// The furthest the clock may run ahead of the wall clock, in milliseconds (nil: no bound).
    public let maximumAhead: Int64?

    public init(physicalClock: any PhysicalClock, latest: HybridTimestamp = .zero, maximumAhead: Int64? = nil) {
        self.physicalClock = physicalClock
        self.latest = latest
        self.maximumAhead = maximumAhead.map { min(max($0, 0), HybridTimestamp.maximumWallMillis) }
        if let limit = self.limit, latest > limit {
            self.latest = HybridTimestamp(wallMillis: clampedPhysical(), logical: 0)
        }
    }

    /// The largest timestamp the clock takes in now: its wall clock plus the bound (nil: any).
    public var limit: HybridTimestamp? {
        guard let maximumAhead else { return nil }
        let wall = min(clampedPhysical(), HybridTimestamp.maximumWallMillis - maximumAhead) + maximumAhead
        return HybridTimestamp(wallMillis: wall, logical: HybridTimestamp.maximumLogical)
    }

    /// The timestamp for a local event or a message send. When the wall clock has moved on,
    /// the logical counter starts at `logicalStart` (at most 0x7FFF): two copies of one store
    /// drawing it at random seldom stamp a write alike even in the same millisecond.
    public mutating func now(logicalStart: Int64 = 0) -> HybridTimestamp {
        let physical = clampedPhysical()
        if physical > latest.wallMillis {
            latest = HybridTimestamp(wallMillis: physical, logical: min(max(logicalStart, 0), 0x7FFF))
        } else {
            latest = latest.successor
        }
        return latest
    }

    /// Folds in a timestamp seen from elsewhere, returning the timestamp of the receive event.
    @discardableResult
    public mutating func receive(_ remote: HybridTimestamp) -> HybridTimestamp {
        let remote = limit.map { min(remote, $0) } ?? remote
        let physical = clampedPhysical()
        let wall = max(physical, latest.wallMillis, remote.wallMillis)
        if wall == latest.wallMillis && wall == remote.wallMillis {
            latest = HybridTimestamp(wallMillis: wall, logical: max(latest.logical, remote.logical)).successor
        } else if wall == latest.wallMillis {
            latest = latest.successor
        } else if wall == remote.wallMillis {
            latest = remote.successor
        } else {
            latest = HybridTimestamp(wallMillis: wall, logical: 0)
        }
        return latest
    }

    /// Moves the clock on by `ticks` logical ticks (carrying into the milliseconds): a store
    /// opened from a copied file leaps at random before its first write, so the copies do not
    /// tick in step when their wall clocks lag behind.
    public mutating func leap(by ticks: Int64) {
        let room = (HybridTimestamp.maximumWallMillis << 16 | HybridTimestamp.maximumLogical) - latest.rawValue
        latest = HybridTimestamp(rawValue: latest.rawValue + min(max(ticks, 0), room))
    }

    /// Folds in a remote timestamp without issuing a new one (for catching up on stored state).
    public mutating func observe(_ remote: HybridTimestamp) {
        let remote = limit.map { min(remote, $0) } ?? remote
        if remote > latest { latest = remote }
    }

    private func clampedPhysical() -> Int64 {
        min(max(physicalClock.nowMillis(), 0), HybridTimestamp.maximumWallMillis)
    }
}
