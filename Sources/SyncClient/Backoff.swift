/// Exponential backoff with full jitter: the n-th wait is random in [base·2ⁿ / 2, base·2ⁿ],
/// capped, so thousands of devices coming back after an outage spread out.
public struct Backoff: Sendable {
    public let base: Duration
    public let cap: Duration
    public private(set) var attempt = 0

    public init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The wait before the next attempt.
    public mutating func next<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Duration {
        let exponential = base * (1 << min(attempt, 30))
        let ceiling = min(exponential, cap)
        attempt += 1
        let fraction = Double.random(in: 0.5...1.0, using: &generator)
        return ceiling * fraction
    }

    public mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// After a success: start again from the base.
    public mutating func reset() {
        attempt = 0
    }
}
