import SyncCore
import SyncTesting
import Testing

@Suite struct HybridLogicalClockTests {
    @Test func causallyFollowingWriteIsLargerDespiteAnHourBehindClock() {
        let ahead = ManualClock(millis: 1_764_000_000_000)
        let behind = ManualClock(millis: 1_764_000_000_000 - 3_600_000)
        var sender = HybridLogicalClock(physicalClock: ahead)
        var follower = HybridLogicalClock(physicalClock: behind)
        let sent = sender.now()
        follower.receive(sent)
        let followed = follower.now()
        #expect(followed > sent)
        #expect(followed.wallMillis == sent.wallMillis)
        behind.advance(by: 10)
        #expect(follower.now() > followed)
    }

    @Test func neverGoesBackwardsWhenTheWallClockJumpsBack() {
        let clock = ManualClock(millis: 2_000_000)
        var hlc = HybridLogicalClock(physicalClock: clock)
        let first = hlc.now()
        clock.set(1_000_000)
        let second = hlc.now()
        let third = hlc.now()
        #expect(first < second && second < third)
        #expect(second.wallMillis == 2_000_000 && second.logical == 1)
        clock.set(3_000_000)
        #expect(hlc.now() == HybridTimestamp(wallMillis: 3_000_000, logical: 0))
    }

    @Test func aNewMillisecondStartsTheLogicalCounterWhereAsked() {
        let clock = ManualClock(millis: 5_000)
        var hlc = HybridLogicalClock(physicalClock: clock)
        #expect(hlc.now(logicalStart: 300) == HybridTimestamp(wallMillis: 5_000, logical: 300))
        #expect(hlc.now(logicalStart: 7) == HybridTimestamp(wallMillis: 5_000, logical: 301))
        clock.advance(by: 1)
        #expect(hlc.now(logicalStart: 0x9000) == HybridTimestamp(wallMillis: 5_001, logical: 0x7FFF))
        #expect(hlc.now() == HybridTimestamp(wallMillis: 5_001, logical: 0x8000))
    }

    @Test func aLeapMovesOnWithoutGoingPastTheLargestTimestamp() {
        let clock = ManualClock(millis: 0)
        var hlc = HybridLogicalClock(physicalClock: clock, latest: HybridTimestamp(wallMillis: 10, logical: 0xFFF0))
        hlc.leap(by: 0x20)
        #expect(hlc.latest == HybridTimestamp(wallMillis: 11, logical: 0x10))
        hlc.leap(by: -5)
        #expect(hlc.latest == HybridTimestamp(wallMillis: 11, logical: 0x10))
        var full = HybridLogicalClock(
            physicalClock: clock,
            latest: HybridTimestamp(wallMillis: HybridTimestamp.maximumWallMillis, logical: 0xFFFE))
        full.leap(by: 100)
        #expect(full.latest == HybridTimestamp(wallMillis: HybridTimestamp.maximumWallMillis, logical: 0xFFFF))
    }

    @Test func receiveTakesTheLargestOfThree() {
        let clock = ManualClock(millis: 100)
        var hlc = HybridLogicalClock(physicalClock: clock, latest: HybridTimestamp(wallMillis: 100, logical: 7))
        #expect(
            hlc.receive(HybridTimestamp(wallMillis: 100, logical: 9)) == HybridTimestamp(wallMillis: 100, logical: 10))
        #expect(
            hlc.receive(HybridTimestamp(wallMillis: 90, logical: 50)) == HybridTimestamp(wallMillis: 100, logical: 11))
        #expect(
            hlc.receive(HybridTimestamp(wallMillis: 500, logical: 3)) == HybridTimestamp(wallMillis: 500, logical: 4))
        clock.set(900)
        #expect(
            hlc.receive(HybridTimestamp(wallMillis: 500, logical: 3)) == HybridTimestamp(wallMillis: 900, logical: 0))
    }

    @Test func fullLogicalCounterCarriesIntoTheNextMillisecond() {
        let full = HybridTimestamp(wallMillis: 42, logical: HybridTimestamp.maximumLogical)
        #expect(full.successor == HybridTimestamp(wallMillis: 43, logical: 0))
        var hlc = HybridLogicalClock(physicalClock: ManualClock(millis: 42), latest: full)
        #expect(hlc.now() == HybridTimestamp(wallMillis: 43, logical: 0))
    }

    @Test func packsWallAndLogical() {
        let stamp = HybridTimestamp(wallMillis: 1_764_000_000_123, logical: 5)
        #expect(stamp.wallMillis == 1_764_000_000_123)
        #expect(stamp.logical == 5)
        #expect(HybridTimestamp(rawValue: stamp.rawValue) == stamp)
    }

    /// The crash: a received stamp at the top of the range traps no later operation.
    @Test func everyOperationSaturatesAtTheLargestTimestamp() {
        let clock = ManualClock(millis: 1_764_000_000_000)
        for logical in [HybridTimestamp.maximumLogical - 1, HybridTimestamp.maximumLogical] {
            var hlc = HybridLogicalClock(physicalClock: clock)
            let far = HybridTimestamp(wallMillis: HybridTimestamp.maximumWallMillis, logical: logical)
            #expect(hlc.receive(far) == .maximum)
            #expect(hlc.now() == .maximum)
            #expect(hlc.now(logicalStart: 5) == .maximum)
            #expect(hlc.receive(far) == .maximum)
            hlc.leap(by: 1_000)
            #expect(hlc.latest == .maximum)
        }
        #expect(HybridTimestamp.maximum.successor == .maximum)
    }

    /// A bounded clock takes in a remote stamp only up to its wall clock plus the bound: one
    /// device whose clock runs ahead cannot drag it forward for good.
    @Test func aBoundedClockTakesInRemoteStampsOnlyUpToTheBound() {
        let clock = ManualClock(millis: 1_764_000_000_000)
        var hlc = HybridLogicalClock(physicalClock: clock, maximumAhead: 60_000)
        let received = hlc.receive(HybridTimestamp(wallMillis: 1_764_000_000_000 + 3_600_000, logical: 0))
        #expect(received.wallMillis == 1_764_000_000_000 + 60_001)
        #expect(hlc.now().wallMillis == 1_764_000_000_000 + 60_001)
        // Within the bound, a remote stamp is taken in whole.
        var near = HybridLogicalClock(physicalClock: clock, maximumAhead: 60_000)
        let within = HybridTimestamp(wallMillis: 1_764_000_000_000 + 30_000, logical: 7)
        #expect(near.receive(within) == within.successor)
    }

    /// A stored reading beyond the bound (taken in before the bound existed) falls back to the
    /// wall clock; one within it is kept, so the clock never goes back inside the bound.
    @Test func aStoredReadingBeyondTheBoundFallsBackToTheWallClock() {
        let clock = ManualClock(millis: 1_764_000_000_000)
        let poisoned = HybridLogicalClock(physicalClock: clock, latest: .maximum, maximumAhead: 60_000)
        #expect(poisoned.latest == HybridTimestamp(wallMillis: 1_764_000_000_000, logical: 0))
        let ahead = HybridTimestamp(wallMillis: 1_764_000_000_000 + 59_000, logical: 3)
        #expect(HybridLogicalClock(physicalClock: clock, latest: ahead, maximumAhead: 60_000).latest == ahead)
        // An unbounded bound near the top of the range does not overflow.
        let huge = HybridLogicalClock(physicalClock: clock, maximumAhead: .max)
        #expect(huge.limit?.wallMillis == HybridTimestamp.maximumWallMillis)
    }
}
