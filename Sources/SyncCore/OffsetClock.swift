/// A wall clock read with a fixed offset: a device whose clock is off by a known amount reads
/// the time of the clock it was compared with (the daemon's).
public struct OffsetClock: PhysicalClock {
    public let base: any PhysicalClock
    /// Milliseconds added to every reading.
    public let offset: Int64

    public init(base: any PhysicalClock, offset: Int64) {
        self.base = base
        self.offset = offset
    }

    public func nowMillis() -> Int64 {
        let (sum, overflow) = base.nowMillis().addingReportingOverflow(offset)
        return overflow ? (offset > 0 ? .max : .min) : sum
    }
}
