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
}
