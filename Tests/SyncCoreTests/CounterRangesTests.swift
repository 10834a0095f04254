import SyncCore
import Testing

@Suite struct CounterRangesTests {
    @Test func insertingJoinsOverlappingAndTouchingRanges() {
        var ranges = CounterRanges()
        ranges.insert(5...7)
        ranges.insert(1...2)
        ranges.insert(10...10)
        #expect(ranges.ranges == [1...2, 5...7, 10...10])
        ranges.insert(3...4)
        #expect(ranges.ranges == [1...7, 10...10])
        ranges.insert(6...12)
        #expect(ranges.ranges == [1...12])
        ranges.insert(contentsOf: [20, 14, 15, 13])
        #expect(ranges.ranges == [1...15, 20...20])
        ranges.insert(-3...0)
        #expect(ranges.ranges == [1...15, 20...20])
        ranges.insert(Int64.max - 1...Int64.max)
        #expect(ranges.contains(Int64.max))
    }

    @Test func containsAnswersForEveryCounter() {
        let ranges = CounterRanges([8...9, 1...3, 5...5])
        let inside = (0...11).filter { ranges.contains(Int64($0)) }
        #expect(inside == [1, 2, 3, 5, 8, 9])
        #expect(!CounterRanges().contains(1))
    }

    @Test func everythingThroughACounterButSomeHoles() {
        #expect(CounterRanges(through: 9, excluding: [3, 4, 9, 12]).ranges == [1...2, 5...8])
        #expect(CounterRanges(through: 5, excluding: [1]).ranges == [2...5])
        #expect(CounterRanges(through: 0, excluding: []).isEmpty)
    }

    @Test func textRoundTripsAndRejectsWhatIsNotAList() {
        let ranges = CounterRanges([1...4, 9...9, 12...30])
        #expect(ranges.text == "1-4 9-9 12-30")
        #expect(CounterRanges(text: ranges.text) == ranges)
        #expect(CounterRanges(text: "") == CounterRanges())
        #expect(CounterRanges(text: "1-") == nil)
        #expect(CounterRanges(text: "4-2") == nil)
        #expect(CounterRanges(text: "a-b") == nil)
    }

    /// Past its limit it drops the highest ranges: it may claim too little, never too much.
    @Test func pastItsLimitItForgetsTheHighestRanges() {
        var ranges = CounterRanges()
        for counter in stride(from: Int64(2), through: Int64(2 * (CounterRanges.maximumRanges + 10)), by: 2) {
            ranges.insert(counter...counter)
        }
        #expect(ranges.ranges.count == CounterRanges.maximumRanges)
        #expect(ranges.contains(2))
        #expect(!ranges.contains(Int64(2 * (CounterRanges.maximumRanges + 1))))
        #expect(
            CounterRanges(through: 1_000, excluding: Set(stride(from: 2, through: 1_000, by: 2))).ranges.count
                == CounterRanges.maximumRanges)
    }
}
