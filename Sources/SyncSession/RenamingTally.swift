import Synchronization

/// How many of the daemon's renamings one connection was told of, shared by its request
/// loop and its live feed.
final class RenamingTally: Sendable {
    private let told: Mutex<Int>

    init(_ told: Int) {
        self.told = Mutex(told)
    }

    /// Records that the connection is told of `count` renamings; false when it already was.
    func raise(to count: Int) -> Bool {
        told.withLock { told in
            guard count > told else { return false }
            told = count
            return true
        }
    }
}
