import SyncCore

/// The simulation's one clock: virtual milliseconds, advanced only by the simulator.
final class VirtualTime: @unchecked Sendable {
    /// The instant every run starts at.
    static let start: Int64 = 1_764_000_000_000
    var now: Int64 = VirtualTime.start
}

/// A device's wall clock: virtual time plus the device's skew (which can jump).
final class SkewedClock: PhysicalClock, @unchecked Sendable {
    private let time: VirtualTime
    var skew: Int64

    init(time: VirtualTime, skew: Int64) {
        self.time = time
        self.skew = skew
    }

    func nowMillis() -> Int64 {
        max(0, time.now + skew)
    }
}

/// Decides, from the run's generator, whether a store's next commit crashes.
final class CrashSwitch: @unchecked Sendable {
    var probability = 0.0
    var random: RandomSource?
    /// Set when a crash was decided, until the simulator handles it.
    var fired = false

    func shouldCrash() -> Bool {
        guard probability > 0, let random, random.chance(probability) else { return false }
        fired = true
        return true
    }
}

/// The run's random generator, shared by reference so every draw comes from one sequence.
final class RandomSource: @unchecked Sendable {
    private var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    func next() -> UInt64 {
        generator.next()
    }

    func chance(_ probability: Double) -> Bool {
        generator.chance(probability)
    }

    /// A uniform integer in `range`.
    func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &generator)
    }

    func int64(_ range: ClosedRange<Int64>) -> Int64 {
        Int64.random(in: range, using: &generator)
    }

    func pick<T>(_ items: [T]) -> T {
        items[int(0...(items.count - 1))]
    }
}
