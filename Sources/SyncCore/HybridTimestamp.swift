/// A hybrid logical clock reading: 48 bits of wall-clock milliseconds and 16 bits of logical
/// counter, packed into one Int64 so it stores and compares as a plain integer.
public struct HybridTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The largest logical counter before the clock borrows a millisecond.
    public static let maximumLogical: Int64 = 0xFFFF
    /// The largest wall-clock value representable (about the year 10889).
    public static let maximumWallMillis: Int64 = (1 << 47) - 1
    public static let zero = HybridTimestamp(rawValue: 0)
    /// The largest timestamp: the clock saturates there rather than wrapping or trapping.
    public static let maximum = HybridTimestamp(rawValue: .max)

    public let rawValue: Int64

    public init(rawValue: Int64) {
        self.rawValue = rawValue
    }

    public init(wallMillis: Int64, logical: Int64) {
        precondition(wallMillis >= 0 && wallMillis <= HybridTimestamp.maximumWallMillis, "wall clock out of range")
        precondition(logical >= 0 && logical <= HybridTimestamp.maximumLogical, "logical counter out of range")
        rawValue = wallMillis << 16 | logical
    }

    public var wallMillis: Int64 { rawValue >> 16 }
    public var logical: Int64 { rawValue & HybridTimestamp.maximumLogical }

    /// The next timestamp: one more logical tick, which carries into the next millisecond when
    /// the logical counter is full. The largest timestamp is its own successor (saturation).
    public var successor: HybridTimestamp { self == .maximum ? self : HybridTimestamp(rawValue: rawValue + 1) }

    public static func < (lhs: HybridTimestamp, rhs: HybridTimestamp) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { "\(wallMillis).\(logical)" }
}
