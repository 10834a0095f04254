import SyncCore
import SyncTesting
import Testing

@testable import SyncStore

@Suite struct RecordStateCodecTests {
    static let schema = try! CollectionSchema(
        name: "things",
        fields: RandomHistory.fieldNames.map { FieldSchema($0, .integer) } + [FieldSchema("label", .text)])
    let codec = RecordStateCodec(schema: RecordStateCodecTests.schema)

    func decode(_ bytes: [UInt8], columnsOf state: RecordState?) throws(StoreError) -> RecordState {
        let fields = Self.schema.fields
        return try bytes.withUnsafeBytes { buffer in
            Result { () throws(StoreError) in
                try codec.decode(
                    buffer, column: state.map { state in { state.visibleValue(of: fields[$0].name) ?? .null } })
            }
        }.get()
    }

    @Test func everyReachableStateRoundTripsLiveAndDeleted() throws {
        var checked = 0
        for seed in UInt64(0)..<2_000 {
            var rng = SplitMix64(seed: seed)
            let history = RandomHistory(replicaCount: 3, operations: 30, using: &rng)
            for state in history.snapshots where state.exists {
                let live = !state.isDeleted
                let decoded = try decode(codec.encode(state, live: live), columnsOf: live ? state : nil)
                #expect(decoded == state, "seed \(seed)")
                checked += 1
            }
        }
        #expect(checked > 10_000)
    }

    @Test func theNewRecordFastPathEncodesExactlyAsTheGeneralPath() throws {
        let replica = ReplicaID(unchecked: "abcdefghijklmnop")
        var rng = SplitMix64(seed: 7)
        for counter in Int64(1)...500 {
            let present = Self.schema.fields.map { _ in rng.chance(0.6) }
            let dot = Dot(replica: replica, counter: counter)
            let timestamp = HybridTimestamp(wallMillis: 1_764_000_000_000 + counter, logical: counter % 3)
            var state = RecordState()
            let values = Self.schema.fields.enumerated().filter { present[$0.offset] }.map {
                (name: $0.element.name, value: FieldValue.integer(Int64($0.offset)))
            }
            state.put(values, dot: dot, timestamp: timestamp)
            #expect(
                codec.encodeNewLiveRecord(present: { present[$0] }, dot: dot, timestamp: timestamp)
                    == codec.encode(state, live: true))
        }
    }

    @Test func damagedBlobsAreRefusedNeverTrusted() throws {
        var rng = SplitMix64(seed: 3)
        let history = RandomHistory(replicaCount: 3, operations: 40, using: &rng)
        let state = history.states.reduce(RecordState()) { $0.merged(with: $1) }
        let encoded = codec.encode(state, live: false)
        for length in 0..<encoded.count {
            #expect(throws: StoreError.self) { try decode(Array(encoded.prefix(length)), columnsOf: nil) }
        }
        var refused = 0
        for _ in 0..<5_000 {
            var damaged = encoded
            damaged[Int.random(in: 0..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            do {
                let decoded = try decode(damaged, columnsOf: nil)
                // A flipped byte that still decodes must still be a valid state.
                #expect((try? RecordState(validatingFields: decoded.fields, context: decoded.context)) != nil)
            } catch {
                #expect(error.code == .corruptState)
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}
