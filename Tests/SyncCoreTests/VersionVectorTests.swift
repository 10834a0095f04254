import SyncCore
import Testing

/// The cases of riak_core's `vclock` tests, plus the core operations.
@Suite struct VersionVectorTests {
    let a = ReplicaID(unchecked: "a")
    let b = ReplicaID(unchecked: "b")
    let c = ReplicaID(unchecked: "c")

    func vv(_ counters: [String: Int64]) -> VersionVector {
        VersionVector(Dictionary(uniqueKeysWithValues: counters.map { (ReplicaID(unchecked: $0.key), $0.value) }))
    }

    @Test func riakExample() {
        var a1 = VersionVector()
        _ = a1.increment(a)
        var b1 = VersionVector()
        _ = b1.increment(b)
        #expect(a1.descends(from: VersionVector()))
        #expect(b1.descends(from: VersionVector()))
        #expect(!a1.descends(from: b1))
        var a2 = a1
        _ = a2.increment(a)
        var c1 = a2.merging(b1)
        _ = c1.increment(c)
        #expect(c1.descends(from: a2))
        #expect(c1.descends(from: b1))
        #expect(!b1.descends(from: c1))
        #expect(!b1.descends(from: a1))
    }

    @Test func riakAccessor() {
        let clock = vv(["1": 1, "2": 2])
        #expect(clock[ReplicaID(unchecked: "1")] == 1)
        #expect(clock[ReplicaID(unchecked: "2")] == 2)
        #expect(clock[ReplicaID(unchecked: "3")] == 0)
    }

    @Test func riakMerge() {
        #expect(vv(["1": 1, "2": 2, "4": 4]).merging(vv(["3": 3, "4": 3])) == vv(["1": 1, "2": 2, "3": 3, "4": 4]))
        #expect(VersionVector().merging(vv(["1": 1])) == vv(["1": 1]))
    }

    @Test func riakMergeLessLeft() {
        #expect(vv(["5": 5]).merging(vv(["6": 6, "7": 7])) == vv(["5": 5, "6": 6, "7": 7]))
        #expect(vv(["6": 6, "7": 7]).merging(vv(["5": 5])) == vv(["5": 5, "6": 6, "7": 7]))
    }

    @Test func riakMergeSameID() {
        #expect(vv(["1": 1, "2": 1]).merging(vv(["1": 1, "3": 1])) == vv(["1": 1, "2": 1, "3": 1]))
    }

    @Test func riakDominates() {
        #expect(vv(["a": 1]).dominates(VersionVector()))
        #expect(!VersionVector().dominates(vv(["a": 1])))
        #expect(vv(["a": 2, "b": 1]).dominates(vv(["a": 1, "b": 1])))
        #expect(!vv(["a": 1, "b": 1]).dominates(vv(["a": 1, "b": 1])))
        #expect(!vv(["a": 1]).dominates(vv(["b": 1])))
    }

    @Test func compareGivesAllFourOrders() {
        #expect(vv(["a": 1]).compare(vv(["b": 1])) == .concurrent)
        #expect(vv(["a": 1, "b": 2]).compare(vv(["a": 1, "b": 2])) == .equal)
        #expect(vv(["a": 1]).compare(vv(["a": 1, "b": 1])) == .before)
        #expect(vv(["a": 2, "b": 1]).compare(vv(["a": 1])) == .after)
        #expect(vv(["a": 2]).compare(vv(["a": 1, "b": 1])) == .concurrent)
        #expect(VersionVector().compare(VersionVector()) == .equal)
    }

    /// Two increments of one actor from the same state collide: a counter must be persisted
    /// before it is used, or two different writes get one dot.
    @Test func incrementsFromTheSameStateCollide() {
        let start = vv(["a": 3, "b": 1])
        var first = start
        var second = start
        let firstDot = first.increment(a)
        let secondDot = second.increment(a)
        #expect(first == second)
        #expect(firstDot == secondDot)
        #expect(firstDot == Dot(replica: a, counter: 4))
        var continued = first
        #expect(continued.increment(a) == Dot(replica: a, counter: 5))
    }

    @Test func coversDots() {
        let clock = vv(["a": 3])
        #expect(clock.covers(Dot(replica: a, counter: 3)))
        #expect(clock.covers(Dot(replica: a, counter: 1)))
        #expect(!clock.covers(Dot(replica: a, counter: 4)))
        #expect(!clock.covers(Dot(replica: b, counter: 1)))
    }

    @Test func validatingRefusesBadEntries() {
        #expect(throws: CoreError.self) {
            try VersionVector(validating: [.init(replica: b, counter: 1), .init(replica: a, counter: 1)])
        }
        #expect(throws: CoreError.self) { try VersionVector(validating: [.init(replica: a, counter: 0)]) }
        #expect(throws: CoreError.self) { try ReplicaID("") }
        #expect(throws: CoreError.self) { try ReplicaID("has space") }
        #expect(throws: CoreError.self) { try ReplicaID(String(repeating: "x", count: 65)) }
    }
}
