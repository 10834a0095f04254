import SyncCore
import SyncTesting
import Testing

@Suite struct SingleWriteTests {
    /// A state is a single write exactly when one write made all of it, and the single write
    /// gives that state back.
    @Test func aStateIsASingleWriteExactlyWhenOneWriteMadeAllOfIt() {
        var found = 0
        for seed in UInt64(0)..<200 {
            var rng = SplitMix64(seed: seed)
            let history = RandomHistory(replicaCount: 3, operations: 20, using: &rng)
            for state in history.snapshots where state.exists {
                let oneWrite =
                    state.context.entries.count == 1 && !state.isDeleted
                    && Set(state.fields.flatMap { $0.register.values.map(\.dot) }).count == 1
                    && state.fields.allSatisfy { $0.register.single?.dot.counter == state.context.entries[0].counter }
                guard let write = SingleWrite(state) else {
                    #expect(!oneWrite, "seed \(seed): \(state)")
                    continue
                }
                found += 1
                #expect(oneWrite, "seed \(seed)")
                #expect(write.state == state)
                #expect(!write.names.contains(RecordState.deletedField))
                #expect(
                    KeyedRecord(collection: "t", key: "k", singleWrite: write)
                        == .init(collection: "t", key: "k", state: state))
                for field in state.fields {
                    #expect(write.value(of: field.name) == field.register.winner.value)
                }
            }
        }
        #expect(found > 100, "the histories hold single writes to check")
    }

    @Test func fieldsSortBesideExistenceWhateverTheirNames() throws {
        let dot = Dot(replica: ReplicaID(unchecked: "r"), counter: 3)
        let stamp = HybridTimestamp(wallMillis: 9, logical: 0)
        // "A" sorts before "_deleted", "a" after it.
        let write = try SingleWrite(
            dot: dot, timestamp: stamp, validatingNames: ["A", "a"], values: [.integer(1), .null])
        var expected = RecordState()
        expected.put([("A", .integer(1)), ("a", .null)], dot: dot, timestamp: stamp)
        #expect(write.state == expected)
        #expect(SingleWrite(expected) == write)
        for (names, values) in [
            (["b", "a"], [FieldValue.null, .null]), (["a", "a"], [.null, .null]), (["_deleted"], [.bool(false)]),
            (["a"], []),
        ] {
            #expect(throws: CoreError.self) {
                try SingleWrite(dot: dot, timestamp: stamp, validatingNames: names, values: values)
            }
        }
        // A delete, or a state with a wider context, is no single write.
        var deleted = expected
        deleted.delete(dot: Dot(replica: dot.replica, counter: 4), timestamp: stamp)
        #expect(SingleWrite(deleted) == nil)
        var rewritten = expected
        rewritten.put(
            [("A", .integer(2)), ("a", .null)], dot: Dot(replica: ReplicaID(unchecked: "s"), counter: 1),
            timestamp: stamp)
        #expect(SingleWrite(rewritten) == nil, "its context still names the first write")
    }
}
