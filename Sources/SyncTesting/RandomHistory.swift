import SyncCore

/// A seeded random history of one record replicated on a few replicas: local puts, deletes,
/// re-creates and pairwise merges, under skewed clocks. Every state it yields is one a real
/// replica could hold, which is what merge properties must be checked on.
public struct RandomHistory {
    /// Every state any replica held, in order.
    public private(set) var snapshots: [RecordState] = []
    /// Each replica's current state.
    public private(set) var states: [RecordState]
    public let replicas: [ReplicaID]
    public static let fieldNames = ["a", "b", "c"]

    private var counters: [Int64]
    private var clocks: [HybridLogicalClock]

    public init(replicaCount: Int, operations: Int, using rng: inout SplitMix64) {
        replicas = (0..<replicaCount).map { ReplicaID(unchecked: "r\($0)") }
        states = Array(repeating: RecordState(), count: replicaCount)
        counters = Array(repeating: 0, count: replicaCount)
        let base: Int64 = 1_764_000_000_000
        clocks = (0..<replicaCount).map { _ in
            HybridLogicalClock(
                physicalClock: FixedClock(millis: base + Int64.random(in: -3_600_000...3_600_000, using: &rng)))
        }
        for _ in 0..<operations {
            let replica = Int.random(in: 0..<replicaCount, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4:
                let count = Int.random(in: 1...RandomHistory.fieldNames.count, using: &rng)
                let values = RandomHistory.fieldNames.shuffled(using: &rng).prefix(count).map {
                    (name: $0, value: FieldValue.integer(Int64.random(in: 0..<5, using: &rng)))
                }
                let (dot, timestamp) = nextWrite(replica)
                states[replica].put(Array(values), dot: dot, timestamp: timestamp)
            case 4:
                let (dot, timestamp) = nextWrite(replica)
                states[replica].delete(dot: dot, timestamp: timestamp)
            default:
                let source = Int.random(in: 0..<replicaCount, using: &rng)
                clocks[replica].receive(states[source].maximumTimestamp)
                states[replica] = states[replica].merged(with: states[source])
            }
            snapshots.append(states[replica])
        }
    }

    private mutating func nextWrite(_ replica: Int) -> (Dot, HybridTimestamp) {
        counters[replica] += 1
        return (Dot(replica: replicas[replica], counter: counters[replica]), clocks[replica].now())
    }
}

/// A physical clock stuck at one instant.
public struct FixedClock: PhysicalClock {
    public let millis: Int64
    public init(millis: Int64) { self.millis = millis }
    public func nowMillis() -> Int64 { millis }
}
