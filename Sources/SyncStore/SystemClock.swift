import Foundation
import SyncCore

/// The machine's wall clock.
public struct SystemClock: PhysicalClock {
    public init() {}

    public func nowMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
