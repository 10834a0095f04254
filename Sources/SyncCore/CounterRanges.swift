/// A set of dot counters kept as sorted, disjoint, inclusive ranges, at most `maximumRanges`
/// of them: which of its own writes a device has had accepted by the daemon.
///
/// It only ever under-claims: when it would grow past its limit, the highest ranges go, so a
/// counter it no longer holds reads as not contained.
public struct CounterRanges: Sendable, Hashable {
    /// The most ranges a set keeps (and a `hello` carries).
    public static let maximumRanges = 256

    public private(set) var ranges: [ClosedRange<Int64>]

    public init() { ranges = [] }

    /// The set of `ranges`, which may overlap or come in any order; counters below 1 are dropped.
    public init(_ ranges: [ClosedRange<Int64>]) {
        self.ranges = []
        for range in ranges { insert(range) }
    }

    /// Every counter from 1 through `counter`, but `excluded`.
    public init(through counter: Int64, excluding excluded: Set<Int64>) {
        var ranges: [ClosedRange<Int64>] = []
        var low: Int64 = 1
        for hole in excluded.sorted() where hole >= low && hole <= counter {
            if hole > low { ranges.append(low...(hole - 1)) }
            low = hole + 1
        }
        if low <= counter { ranges.append(low...counter) }
        self.ranges = Array(ranges.prefix(Self.maximumRanges))
    }

    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ counter: Int64) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < counter {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < ranges.count && ranges[low].contains(counter)
    }

    /// Adds `range`, joining the ranges it overlaps or touches.
    public mutating func insert(_ range: ClosedRange<Int64>) {
        guard range.upperBound >= 1 else { return }
        var merged = max(range.lowerBound, 1)...range.upperBound
        var kept: [ClosedRange<Int64>] = []
        kept.reserveCapacity(ranges.count + 1)
        var placed = false
        for existing in ranges {
            if existing.upperBound < merged.lowerBound - 1 {
                kept.append(existing)
            } else if existing.lowerBound - 1 > merged.upperBound {
                if !placed {
                    kept.append(merged)
                    placed = true
                }
                kept.append(existing)
            } else {
                merged = min(existing.lowerBound, merged.lowerBound)...max(existing.upperBound, merged.upperBound)
            }
        }
        if !placed { kept.append(merged) }
        ranges = Array(kept.prefix(Self.maximumRanges))
    }

    /// Adds each of `counters`.
    public mutating func insert<S: Sequence>(contentsOf counters: S) where S.Element == Int64 {
        for counter in counters.sorted() { insert(counter...counter) }
    }

    /// Reads `low-high` pairs separated by spaces; nil for text that is not such a list.
    public init?(text: String) {
        var ranges: [ClosedRange<Int64>] = []
        for pair in text.split(separator: " ") {
            let bounds = pair.split(separator: "-")
            guard bounds.count == 2, let low = Int64(bounds[0]), let high = Int64(bounds[1]), low <= high else {
                return nil
            }
            ranges.append(low...high)
        }
        self.init(ranges)
    }

    public var text: String {
        ranges.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: " ")
    }
}
