/// A version vector: for each replica, the highest counter seen from it.
///
/// Entries are kept sorted by replica, so equal vectors are equal values and encode the same
/// way. It is deliberately not `Comparable`: concurrent vectors have no order
/// (use `compare(_:)`).
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// One replica's entry.
    public struct Entry: Hashable, Sendable {
        public let replica: ReplicaID
        public let counter: Int64

        public init(replica: ReplicaID, counter: Int64) {
            self.replica = replica
            self.counter = counter
        }
    }

    /// Entries with counter > 0, sorted by replica.
    public private(set) var entries: [Entry]

    public init() { entries = [] }

    /// Makes a vector from replica counters; zero counters are dropped.
    public init(_ counters: [ReplicaID: Int64]) {
        entries = counters.filter { $0.value > 0 }.map { Entry(replica: $0.key, counter: $0.value) }
            .sorted { $0.replica < $1.replica }
    }

    /// The vector of one dot (its counter positive, as every dot's is).
    public init(single dot: Dot) {
        entries = [Entry(replica: dot.replica, counter: dot.counter)]
    }

    /// Makes a vector from entries, refusing unsorted, duplicate or non-positive entries.
    public init(validating entries: [Entry]) throws(CoreError) {
        for (index, entry) in entries.enumerated() {
            guard entry.counter > 0 else {
                throw CoreError(.invalidState, "version vector counter for \(entry.replica) must be positive")
            }
            if index > 0, !(entries[index - 1].replica < entry.replica) {
                throw CoreError(.invalidState, "version vector entries must be sorted by replica without repeats")
            }
        }
        self.entries = entries
    }

    /// The counter for `replica`, 0 when absent.
    public subscript(replica: ReplicaID) -> Int64 {
        guard let index = index(of: replica) else { return 0 }
        return entries[index].counter
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Whether this vector has seen `dot`.
    public func covers(_ dot: Dot) -> Bool {
        self[dot.replica] >= dot.counter
    }

    /// Bumps `replica`'s counter and returns the dot of the new event.
    public mutating func increment(_ replica: ReplicaID) -> Dot {
        let dot = Dot(replica: replica, counter: self[replica] + 1)
        add(dot)
        return dot
    }

    /// Records that `dot` has been seen (raises its replica's entry to at least its counter).
    public mutating func add(_ dot: Dot) {
        switch position(of: dot.replica) {
        case .found(let index):
            if entries[index].counter < dot.counter {
                entries[index] = Entry(replica: dot.replica, counter: dot.counter)
            }
        case .insert(let index):
            entries.insert(Entry(replica: dot.replica, counter: dot.counter), at: index)
        }
    }

    /// Joins `other` into this vector: the pointwise maximum.
    public mutating func merge(_ other: VersionVector) {
        self = merging(other)
    }

    /// The pointwise maximum of both vectors.
    public func merging(_ other: VersionVector) -> VersionVector {
        if other.entries.isEmpty { return self }
        if entries.isEmpty { return other }
        var result: [Entry] = []
        result.reserveCapacity(max(entries.count, other.entries.count))
        var left = 0
        var right = 0
        while left < entries.count || right < other.entries.count {
            if right == other.entries.count
                || (left < entries.count && entries[left].replica < other.entries[right].replica)
            {
                result.append(entries[left])
                left += 1
            } else if left == entries.count || other.entries[right].replica < entries[left].replica {
                result.append(other.entries[right])
                right += 1
            } else {
                let counter = max(entries[left].counter, other.entries[right].counter)
                result.append(Entry(replica: entries[left].replica, counter: counter))
                left += 1
                right += 1
            }
        }
        var merged = VersionVector()
        merged.entries = result
        return merged
    }

    /// How this vector relates causally to `other`.
    public func compare(_ other: VersionVector) -> CausalOrder {
        var someGreater = false
        var someLess = false
        var left = 0
        var right = 0
        while left < entries.count || right < other.entries.count {
            if right == other.entries.count
                || (left < entries.count && entries[left].replica < other.entries[right].replica)
            {
                someGreater = true
                left += 1
            } else if left == entries.count || other.entries[right].replica < entries[left].replica {
                someLess = true
                right += 1
            } else {
                if entries[left].counter > other.entries[right].counter { someGreater = true }
                if entries[left].counter < other.entries[right].counter { someLess = true }
                left += 1
                right += 1
            }
            if someGreater && someLess { return .concurrent }
        }
        switch (someGreater, someLess) {
        case (false, false): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (true, true): return .concurrent
        }
    }

    /// Whether this vector has seen everything `other` has (equal or after).
    public func descends(from other: VersionVector) -> Bool {
        let order = compare(other)
        return order == .equal || order == .after
    }

    /// Whether this vector has seen strictly more than `other`.
    public func dominates(_ other: VersionVector) -> Bool {
        compare(other) == .after
    }

    public var description: String {
        "{" + entries.map { "\($0.replica):\($0.counter)" }.joined(separator: ",") + "}"
    }

    private enum Position {
        case found(Int)
        case insert(Int)
    }

    private func position(of replica: ReplicaID) -> Position {
        // Most contexts name one or two replicas: equality is cheaper than ordering.
        if entries.count <= 4, let index = entries.firstIndex(where: { $0.replica == replica }) {
            return .found(index)
        }
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].replica < replica {
                low = middle + 1
            } else {
                high = middle
            }
        }
        if low < entries.count, entries[low].replica == replica { return .found(low) }
        return .insert(low)
    }

    private func index(of replica: ReplicaID) -> Int? {
        if case .found(let index) = position(of: replica) { return index }
        return nil
    }
}
