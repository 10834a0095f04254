import SyncCore
import SyncTesting
import Testing

/// Merge semantics of record states: the Dynamo paper's example, the dotted-version-vector
/// stale-context case, deletes, and the winner rule.
@Suite struct RecordStateTests {
    /// A replica writing one record: its own counter and clock.
    struct Writer {
        let id: ReplicaID
        var counter: Int64 = 0
        var clock: HybridLogicalClock
        var state = RecordState()

        init(_ name: String, millis: Int64 = 1_000_000) {
            id = ReplicaID(unchecked: name)
            clock = HybridLogicalClock(physicalClock: FixedClock(millis: millis))
        }

        mutating func put(_ field: String, _ value: FieldValue, observed: VersionVector? = nil) {
            counter += 1
            state.put(
                [(field, value)], dot: Dot(replica: id, counter: counter), timestamp: clock.now(), observed: observed)
        }

        mutating func delete() {
            counter += 1
            state.delete(dot: Dot(replica: id, counter: counter), timestamp: clock.now())
        }

        mutating func receive(_ other: RecordState) {
            clock.receive(other.maximumTimestamp)
            state = state.merged(with: other)
        }

        func values(_ field: String) -> [FieldValue] {
            state.register(of: field)?.values.map(\.value) ?? []
        }
    }

    func vv(_ counters: [String: Int64]) -> VersionVector {
        VersionVector(Dictionary(uniqueKeysWithValues: counters.map { (ReplicaID(unchecked: $0.key), $0.value) }))
    }

    /// DeCandia et al., figure 3: D3 and D4 are concurrent and both kept; D5 collapses them.
    @Test func dynamoPaperExample() {
        var sx = Writer("Sx")
        sx.put("v", .text("D1"))
        #expect(sx.state.context == vv(["Sx": 1]))
        sx.put("v", .text("D2"))
        #expect(sx.state.context == vv(["Sx": 2]))
        #expect(sx.values("v") == [.text("D2")])

        var sy = Writer("Sy")
        sy.receive(sx.state)
        sy.put("v", .text("D3"))
        var sz = Writer("Sz")
        sz.receive(sx.state)
        sz.put("v", .text("D4"))
        #expect(sy.state.context == vv(["Sx": 2, "Sy": 1]))
        #expect(sz.state.context == vv(["Sx": 2, "Sz": 1]))
        #expect(sy.state.context.compare(sz.state.context) == .concurrent)

        sx.receive(sy.state)
        sx.receive(sz.state)
        #expect(Set(sx.values("v")) == [.text("D3"), .text("D4")])
        #expect(sx.state.register(of: "v")?.isConflict == true)

        sx.put("v", .text("D5"))
        #expect(sx.state.context == vv(["Sx": 3, "Sy": 1, "Sz": 1]))
        #expect(sx.values("v") == [.text("D5")])
        // D5 reaching the others collapses their siblings too.
        sy.receive(sx.state)
        #expect(sy.values("v") == [.text("D5")])
    }

    /// Mary writes v1; Peter reads v1; Mary blind-writes v2; Peter writes v3 with the stale
    /// context: siblings {v2, v3}, v1 gone. Alternating further never holds more than two.
    @Test func staleContextKeepsAtMostTwoSiblings() {
        var server = Writer("S")
        server.put("v", .text("v1"))
        let peterRead = server.state.context
        var maryContext = server.state.context
        server.put("v", .text("v2"), observed: maryContext)
        maryContext = server.state.context
        server.put("v", .text("v3"), observed: peterRead)
        var peterContext = server.state.context
        #expect(Set(server.values("v")) == [.text("v2"), .text("v3")])

        var plain = PlainVersionVectorRegister()
        plain.put("v1", context: VersionVector(), actor: server.id)
        let plainPeterRead = plain.clock
        var plainMary = plain.put("v2", context: plain.clock, actor: server.id)
        var plainPeter = plain.put("v3", context: plainPeterRead, actor: server.id)

        var maximumSiblings = 0
        for round in 0..<100 {
            let maryValue = FieldValue.text("m\(round)")
            server.put("v", maryValue, observed: maryContext)
            maryContext = server.state.context
            maximumSiblings = max(maximumSiblings, server.values("v").count)
            server.put("v", .text("p\(round)"), observed: peterContext)
            peterContext = server.state.context
            maximumSiblings = max(maximumSiblings, server.values("v").count)
            plainMary = plain.put("m\(round)", context: plainMary, actor: server.id)
            plainPeter = plain.put("p\(round)", context: plainPeter, actor: server.id)
        }
        #expect(maximumSiblings == 2)
        #expect(Set(server.values("v")) == [.text("m99"), .text("p99")])
        #expect(plain.values.count > 101)
    }

    @Test func editsOfDifferentFieldsMergeWithoutConflict() {
        var one = Writer("one")
        one.put("name", .text("Rest A"))
        var two = Writer("two")
        two.receive(one.state)
        one.put("status", .text("full"))
        two.put("free_chargers", .integer(3))
        one.receive(two.state)
        two.receive(one.state)
        #expect(one.state == two.state)
        #expect(!one.state.hasConflicts)
        #expect(one.state.visibleValue(of: "status") == .text("full"))
        #expect(one.state.visibleValue(of: "free_chargers") == .integer(3))
    }

    @Test func concurrentEditsOfOneFieldPickTheSameWinnerEverywhere() {
        var early = Writer("zz", millis: 1_000)
        var late = Writer("aa", millis: 2_000)
        early.put("status", .text("open"))
        late.put("status", .text("closed"))
        let merged1 = early.state.merged(with: late.state)
        let merged2 = late.state.merged(with: early.state)
        #expect(merged1 == merged2)
        #expect(merged1.conflictingFieldNames == ["status"])
        #expect(merged1.register(of: "_deleted")?.values.count == 2)
        // Larger HLC wins whatever the replica ids say.
        #expect(merged1.visibleValue(of: "status") == .text("closed"))

        var tieLow = Writer("aa", millis: 5_000)
        var tieHigh = Writer("bb", millis: 5_000)
        tieLow.put("status", .text("open"))
        tieHigh.put("status", .text("full"))
        // Equal HLCs: the larger replica id wins.
        #expect(tieLow.state.merged(with: tieHigh.state).visibleValue(of: "status") == .text("full"))
    }

    @Test func deleteConcurrentWithEditIsAVisibleConflict() {
        var station = Writer("station", millis: 1_000)
        station.put("status", .text("open"))
        var admin = Writer("admin", millis: 2_000)
        admin.receive(station.state)
        admin.delete()
        station.put("status", .text("full"))
        let merged = admin.state.merged(with: station.state)
        #expect(merged.register(of: "_deleted")?.values.count == 2)
        #expect(merged.isDeleted == (admin.state.maximumTimestamp > station.state.maximumTimestamp))
        // The edit is not lost: it is still the status value.
        #expect(merged.visibleValue(of: "status") == .text("full"))
    }

    @Test func deleteThatSawTheEditWinsAndReCreateCoversTheDelete() {
        var station = Writer("station")
        station.put("status", .text("open"))
        var admin = Writer("admin")
        admin.receive(station.state)
        admin.delete()
        station.receive(admin.state)
        #expect(station.state.isDeleted)
        #expect(!station.state.hasConflicts)
        station.put("status", .text("open"))
        admin.receive(station.state)
        #expect(!admin.state.isDeleted)
        #expect(!admin.state.hasConflicts)
    }

    @Test func clashingDotsAreReported() {
        var original = Writer("dup", millis: 1_000)
        var clone = Writer("dup", millis: 1_000)
        original.put("status", .text("open"))
        clone.put("status", .text("closed"))
        #expect(original.state.clashingDots(with: clone.state) == [Dot(replica: original.id, counter: 1)])
        #expect(original.state.clashingDots(with: original.state).isEmpty)
        #expect(original.state.merged(with: clone.state) == clone.state.merged(with: original.state))
    }

    /// A copy writing another field under the same dot, at another moment, clashes too: one
    /// write has one timestamp.
    @Test func oneDotInTwoFieldsAtTwoMomentsClashes() {
        var original = Writer("dup", millis: 1_000)
        var clone = Writer("dup", millis: 2_000)
        original.put("meals_left", .integer(3))
        clone.put("status", .text("closed"))
        #expect(original.state.clashingDots(with: clone.state) == [Dot(replica: original.id, counter: 1)])
        // One write setting two fields, seen whole on one side: no clash.
        var station = Writer("st")
        station.state.put(
            [("status", .text("open")), ("meals_left", .integer(2))], dot: Dot(replica: station.id, counter: 1),
            timestamp: station.clock.now())
        var admin = Writer("admin")
        admin.receive(station.state)
        admin.put("status", .text("full"), observed: station.state.context)
        #expect(admin.state.clashingDots(with: station.state).isEmpty)
        #expect(station.state.clashingDots(with: admin.state).isEmpty)
    }

    /// A record whose context may count a copy's write as seen keeps every value the peer
    /// holds: the plain join drops one the context covers, the keeping join does not.
    @Test func keepingAllOfThePeersValuesDropsNone() {
        var station = Writer("st")
        station.put("meals_left", .integer(9))
        // The admin saw a copy's write under st:1 and wrote over it.
        var copy = Writer("st", millis: 2_000_000)
        copy.put("meals_left", .integer(5))
        var admin = Writer("admin")
        admin.receive(copy.state)
        admin.put("meals_left", .integer(40))
        #expect(
            admin.state.merged(with: station.state).register(of: "meals_left")?.values.map(\.value) == [.integer(40)])
        let kept = admin.state.merged(keepingAllOf: station.state)
        #expect(Set(kept.register(of: "meals_left")?.values.map(\.value) ?? []) == [.integer(9), .integer(40)])
        #expect(kept.register(of: RecordState.deletedField)?.count == 2)
        #expect(kept.context == admin.state.context.merging(station.state.context))
        // Keeping changes nothing where the plain join drops nothing.
        #expect(station.state.merged(keepingAllOf: admin.state) == station.state.merged(with: admin.state))
    }

    @Test func validatingRefusesValuesOutsideTheContext() {
        let dot = Dot(replica: ReplicaID(unchecked: "r"), counter: 2)
        let register = MultiValueRegister(RegisterValue(value: .integer(1), dot: dot, timestamp: .zero))
        #expect(throws: CoreError.self) {
            try RecordState(validatingFields: [.init(name: "x", register: register)], context: self.vv(["r": 1]))
        }
        #expect(throws: Never.self) {
            try RecordState(validatingFields: [.init(name: "x", register: register)], context: self.vv(["r": 2]))
        }
    }
}

/// A register with one clock for the whole object (Riak before dotted version vectors): a put
/// whose context does not descend the clock can only add a sibling.
struct PlainVersionVectorRegister {
    var values: [String] = []
    var clock = VersionVector()

    /// Puts `value` and returns the context the writer gets back.
    @discardableResult
    mutating func put(_ value: String, context: VersionVector, actor: ReplicaID) -> VersionVector {
        if context.descends(from: clock) {
            values = [value]
        } else {
            values.append(value)
        }
        clock = clock.merging(context)
        _ = clock.increment(actor)
        return clock
    }
}
