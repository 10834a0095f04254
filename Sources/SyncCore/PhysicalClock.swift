/// A source of wall-clock time in milliseconds since the Unix epoch, injected so that tests and
/// the simulator can skew or freeze it.
public protocol PhysicalClock: Sendable {
    func nowMillis() -> Int64
}
