import SyncCore
import Synchronization

/// A physical clock a test sets by hand: frozen until told to move, able to jump back.
public final class ManualClock: PhysicalClock {
    private let millis: Mutex<Int64>

    public init(millis: Int64 = 1_764_000_000_000) {
        self.millis = Mutex(millis)
    }

    public func nowMillis() -> Int64 {
        millis.withLock { $0 }
    }

    public func set(_ value: Int64) {
        millis.withLock { $0 = value }
    }

    public func advance(by delta: Int64) {
        millis.withLock { $0 += delta }
    }
}
