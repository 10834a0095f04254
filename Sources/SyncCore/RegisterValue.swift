/// One value held by a register: what was written, by which write, and when.
public struct RegisterValue: Hashable, Sendable {
    public let value: FieldValue
    public let dot: Dot
    public let timestamp: HybridTimestamp

    public init(value: FieldValue, dot: Dot, timestamp: HybridTimestamp) {
        self.value = value
        self.dot = dot
        self.timestamp = timestamp
    }

    /// The deterministic winner order among siblings: by hybrid timestamp, then replica id,
    /// then counter. Every replica picks the same winner from the same siblings.
    public func winsOver(_ other: RegisterValue) -> Bool {
        if timestamp != other.timestamp { return timestamp > other.timestamp }
        if dot.replica != other.dot.replica { return other.dot.replica < dot.replica }
        return dot.counter > other.dot.counter
    }

    /// Whether `self` and `other` claim the same dot with different content: the mark of two
    /// devices sharing one replica id.
    public func clashes(with other: RegisterValue) -> Bool {
        dot == other.dot && (value != other.value || timestamp != other.timestamp)
    }
}
