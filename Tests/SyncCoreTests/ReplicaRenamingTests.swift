import Testing

@testable import SyncCore

/// Moving a replica's writes after a counter to a new id: exact for dots, contexts and states.
@Suite struct ReplicaRenamingTests {
    let old = ReplicaID(unchecked: "copied")
    let new = ReplicaID(unchecked: "renamed")
    let other = ReplicaID(unchecked: "other")
    var renaming: ReplicaRenaming { ReplicaRenaming(old: old, new: new, after: 5) }

    @Test func dotsAfterTheCounterMoveAndEarlierOnesStay() {
        #expect(renaming.renamed(Dot(replica: old, counter: 5)) == Dot(replica: old, counter: 5))
        #expect(renaming.renamed(Dot(replica: old, counter: 6)) == Dot(replica: new, counter: 1))
        #expect(renaming.renamed(Dot(replica: old, counter: 9)) == Dot(replica: new, counter: 4))
        #expect(renaming.renamed(Dot(replica: other, counter: 9)) == Dot(replica: other, counter: 9))
    }

    @Test func aContextPastTheCounterSplitsInTwo() {
        #expect(renaming.renamed(VersionVector([old: 9, other: 2])) == VersionVector([old: 5, new: 4, other: 2]))
        #expect(renaming.renamed(VersionVector([old: 4, other: 2])) == VersionVector([old: 4, other: 2]))
        #expect(
            ReplicaRenaming(old: old, new: new, after: 0).renamed(VersionVector([old: 3])) == VersionVector([new: 3]))
        // Every dot the old context covered is covered by the new one, renamed.
        let context = VersionVector([old: 9, other: 2])
        for counter in Int64(1)...9 {
            #expect(renaming.renamed(context).covers(renaming.renamed(Dot(replica: old, counter: counter))))
        }
        #expect(!renaming.renamed(context).covers(Dot(replica: old, counter: 6)))
    }

    @Test func aStateKeepsItsValuesAndStaysValid() throws {
        var state = RecordState()
        let timestamp = HybridTimestamp(rawValue: 1 << 20)
        state.put([("status", .text("open"))], dot: Dot(replica: old, counter: 3), timestamp: timestamp)
        state.put(
            [("meals_left", .integer(4))], dot: Dot(replica: other, counter: 1), timestamp: timestamp,
            observed: VersionVector())
        state.put([("status", .text("closed"))], dot: Dot(replica: old, counter: 7), timestamp: timestamp)
        // A sibling of the other replica's value: renamed, it sorts after it.
        state.put(
            [("meals_left", .integer(5))], dot: Dot(replica: old, counter: 8), timestamp: timestamp,
            observed: VersionVector([old: 7]))
        #expect(state.register(of: "meals_left")?.values.map(\.dot.replica) == [old, other])
        #expect(renaming.moves(state))
        let renamed = renaming.renamed(state)
        #expect(renamed.visibleValue(of: "status") == .text("closed"))
        #expect(renamed.register(of: "status")?.values.map(\.dot) == [Dot(replica: new, counter: 2)])
        #expect(renamed.context == VersionVector([old: 5, new: 3, other: 1]))
        #expect(renamed.register(of: "meals_left")?.values.map(\.dot.replica) == [other, new])
        // Siblings stay sorted by dot: the state is one a replica could have made.
        for field in renamed.fields {
            _ = try MultiValueRegister(validating: field.register.values)
        }
        _ = try RecordState(validatingFields: renamed.fields, context: renamed.context)
        var untouched = RecordState()
        untouched.put([("status", .text("open"))], dot: Dot(replica: old, counter: 2), timestamp: timestamp)
        #expect(!renaming.moves(untouched))
        #expect(renaming.renamed(untouched) == untouched)
    }

    /// A third store took in a copy's write before the copy moved it: the copy's record,
    /// renamed, is the evidence, and the store's record moves the same way. A record whose
    /// writes past the counter are the other copy's (another timestamp) stays.
    @Test func aStoreThatSawTheCopysWriteAdoptsItsMove() throws {
        let early = HybridTimestamp(rawValue: 1 << 20)
        let late = HybridTimestamp(rawValue: 1 << 21)
        var copy = RecordState()
        copy.put([("status", .text("open"))], dot: Dot(replica: old, counter: 3), timestamp: early)
        copy.put([("status", .text("full"))], dot: Dot(replica: old, counter: 7), timestamp: late)
        let held = copy
        let moved = renaming.renamed(copy)
        #expect(renaming.adopted(held, evidence: moved) == moved)
        // Both dots of one write side by side (the store took in the moved one too): one value.
        let both = held.merged(with: moved)
        #expect(both.register(of: "status")?.count == 2)
        #expect(renaming.adopted(both, evidence: both) == moved)
        // The other copy's write under the same dot: not the copy's, it stays.
        var original = RecordState()
        original.put([("status", .text("open"))], dot: Dot(replica: old, counter: 3), timestamp: early)
        original.put([("status", .text("closed"))], dot: Dot(replica: old, counter: 7), timestamp: early)
        #expect(renaming.adopted(original, evidence: moved) == nil)
        // The copy wrote over one moved write and kept another: the record as it holds it is
        // the evidence, and the written-over write goes in the merge that follows.
        var withShared = held
        withShared.put(
            [("meals_left", .integer(2))], dot: Dot(replica: old, counter: 8), timestamp: late,
            observed: VersionVector([old: 7]))
        var laterShared = renaming.renamed(withShared)
        laterShared.put([("status", .text("fixed"))], dot: Dot(replica: new, counter: 4), timestamp: late)
        let adopted = try #require(renaming.adopted(withShared, evidence: laterShared))
        #expect(adopted == renaming.renamed(withShared))
        #expect(adopted.merged(with: laterShared) == laterShared)
        // Taken in beside each other before the move was known, the written-over write is
        // seen under its old dot: it cannot surely be told from the other copy's, so stays.
        let mixed = withShared.merged(with: laterShared)
        #expect(mixed.register(of: "status")?.count == 2)
        #expect(renaming.adopted(mixed, evidence: mixed) == nil)
        // Another write seen under the old dot on the copy's side is the other copy's.
        var keeperSeen = laterShared
        keeperSeen.put(
            [("status", .text("kept"))], dot: Dot(replica: old, counter: 9), timestamp: late,
            observed: laterShared.context)
        var otherStore = withShared
        otherStore.put(
            [("status", .text("kept"))], dot: Dot(replica: old, counter: 9), timestamp: late,
            observed: withShared.context)
        #expect(renaming.adopted(otherStore, evidence: keeperSeen) == nil)
        // A write past what the copy's side saw is the other copy's: nothing moves.
        var keeper = held
        keeper.put([("status", .text("kept"))], dot: Dot(replica: old, counter: 12), timestamp: late)
        #expect(renaming.adopted(keeper, evidence: moved) == nil)
        // Nothing past the counter: nothing to adopt.
        var shared = RecordState()
        shared.put([("status", .text("open"))], dot: Dot(replica: old, counter: 3), timestamp: early)
        #expect(renaming.adopted(shared, evidence: moved) == nil)
    }
}
