import SyncCore
import SyncTesting
import Testing

/// Merge is a join: commutative, associative and idempotent on every reachable state, and the
/// visible values do not depend on merge order. 10,000 seeded random histories.
@Suite struct MergePropertyTests {
    @Test func mergeIsAJoinOnRandomStates() {
        var failures: [UInt64] = []
        for seed in UInt64(0)..<10_000 {
            var rng = SplitMix64(seed: seed)
            let history = RandomHistory(
                replicaCount: Int.random(in: 2...4, using: &rng), operations: Int.random(in: 5...40, using: &rng),
                using: &rng)
            let pool = history.snapshots
            let x = pool.randomElement(using: &rng)!
            let y = pool.randomElement(using: &rng)!
            let z = pool.randomElement(using: &rng)!
            let holds =
                x.merged(with: y) == y.merged(with: x)
                && x.merged(with: y).merged(with: z) == x.merged(with: y.merged(with: z))
                && x.merged(with: x) == x
                && x.merged(with: y).merged(with: y) == x.merged(with: y)
                && MergePropertyTests.isValid(x.merged(with: y))
            if !holds { failures.append(seed) }
        }
        #expect(failures.isEmpty, "merge is not a join for seeds \(failures.prefix(10))")
    }

    @Test func visibleValuesDoNotDependOnMergeOrder() {
        var failures: [UInt64] = []
        for seed in UInt64(0)..<2_000 {
            var rng = SplitMix64(seed: seed)
            let history = RandomHistory(replicaCount: 4, operations: Int.random(in: 10...60, using: &rng), using: &rng)
            let reference = history.states.reduce(RecordState()) { $0.merged(with: $1) }
            for _ in 0..<3 {
                let shuffled = history.states.shuffled(using: &rng)
                let folded = shuffled.dropFirst().reduce(shuffled[0]) { $0.merged(with: $1) }
                let sameVisible = RandomHistory.fieldNames.allSatisfy {
                    folded.visibleValue(of: $0) == reference.visibleValue(of: $0)
                }
                if folded != reference || !sameVisible || folded.isDeleted != reference.isDeleted {
                    failures.append(seed)
                }
            }
        }
        #expect(failures.isEmpty, "merge order changed the result for seeds \(failures.prefix(10))")
    }

    /// Once every replica has seen every state, the replicas agree exactly.
    @Test func fullExchangeConverges() {
        for seed in UInt64(0)..<500 {
            var rng = SplitMix64(seed: seed)
            let history = RandomHistory(replicaCount: 3, operations: 40, using: &rng)
            let all = history.states.reduce(RecordState()) { $0.merged(with: $1) }
            for state in history.states {
                #expect(state.merged(with: all) == all, "seed \(seed)")
            }
        }
    }

    static func isValid(_ state: RecordState) -> Bool {
        (try? RecordState(validatingFields: state.fields, context: state.context)) != nil
    }
}
