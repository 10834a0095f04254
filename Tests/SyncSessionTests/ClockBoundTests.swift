import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// A device's clock cannot drag the daemon's forward: writes stamped too far ahead are refused
/// `clock_ahead`, and an honest device whose clock runs ahead loses nothing by it.
@Suite struct ClockBoundTests {
    static let now: Int64 = 1_764_000_000_000
    static let twoHours: Int64 = 7_200_000

    /// A rider's phone two hours fast checks in before it ever synced: the daemon refuses the
    /// stamp, the phone sets its clock by the daemon's (welcome.time), stamps the check-in
    /// again, and it lands in the same sync, stamped by the daemon's time, flagged nowhere.
    @Test func aWriteStampedAheadIsStampedAgainAndLands() throws {
        let network = try Network()
        let phone = try network.addDevice("rider", token: "rider:r-7", skew: Self.twoHours)
        try phone.write { try $0.put("checkins", key: "c-1", Samples.checkin(rider: "r-7", station: "st-1")) }
        let before = try #require(try phone.record("checkins", key: "c-1")?.maximumTimestamp)
        #expect(before.wallMillis >= Self.now + Self.twoHours)

        guard case .caughtUp(let report) = try network.sync("rider") else {
            Issue.record("the sync did not catch up")
            return
        }
        #expect(report.sent == 1 && report.refused == 0)
        let held = try #require(try network.daemonStore.record("checkins", key: "c-1"))
        #expect(held.maximumTimestamp.wallMillis <= Self.now + StoreOptions.defaultMaximumClockAhead)
        #expect(held.visibleValue(of: "rider_id") == .text("r-7"))
        #expect(try network.disagreements(["rider"], on: ["checkins/c-1"]).isEmpty)
        #expect(try phone.clockOffset() == -Self.twoHours)
        // The phone's next write is stamped by the daemon's clock, and goes up at once.
        try phone.write { try $0.put("checkins", key: "c-2", Samples.checkin(rider: "r-7", station: "st-1")) }
        let next = try #require(try phone.record("checkins", key: "c-2")?.maximumTimestamp)
        #expect(abs(next.wallMillis - Self.now) < 2_000)
        try network.sync("rider")
        #expect(try network.disagreements(["rider"], on: ["checkins/c-1", "checkins/c-2"]).isEmpty)
    }

    /// A hostile push stamped at the top of the range (the crash of issue 15) is refused, the
    /// daemon's clock does not move, and the daemon's next write is stamped by its wall clock.
    @Test func aPushStampedAtTheTopOfTheRangeIsRefusedAndMovesNoClock() throws {
        let network = try Network()
        let daemon = network.daemonSession()
        let hello = #"{"type":"hello","id":1,"protocol":2,"replica":"evil-1","token":"rider:r-7"}"#
        let greeted = send(hello, to: daemon)
        guard case .welcome(let welcome) = greeted.messages.first else {
            Issue.record("no welcome: \(greeted.messages)")
            return
        }
        #expect(welcome.time == Self.now)
        #expect(welcome.maximumClockAhead == StoreOptions.defaultMaximumClockAhead)
        for logical in [65_534, 65_535] {
            let push = """
                {"type":"push","id":2,"records":[{"c":"checkins","k":"ci-\(logical)","ctx":[["evil-1",1]],\
                "d":[0,1,140737488355327,\(logical)],"f":{"_deleted":false,"at":1,"device":"phone",\
                "purpose":"rest","rider_id":"r-7","station_id":"st-1"}}]}
                """
            let output = send(push, to: daemon)
            guard case .pushed(let result) = output.messages.first else {
                Issue.record("no pushed: \(output.messages)")
                return
            }
            #expect(result.accepted == 0)
            #expect(result.refused.map(\.code) == [RefusalCode.clockAhead])
        }
        try network.daemonStore.write { try $0.put("stations", key: "st-1", Samples.station("Haishu")) }
        let stamp = try #require(try network.daemonStore.record("stations", key: "st-1")?.maximumTimestamp)
        #expect(stamp.wallMillis <= Self.now + 2)
    }

    /// A write ahead by less than the bound is taken as it is, stamp and all.
    @Test func aWriteAheadWithinTheBoundIsTakenAsItIs() throws {
        let network = try Network()
        let admin = try network.addDevice("admin", token: "admin:ops", skew: 600_000)
        try admin.write { try $0.put("stations", key: "st-1", Samples.station("Haishu")) }
        let stamped = try #require(try admin.record("stations", key: "st-1"))
        try network.sync("admin")
        #expect(try network.daemonStore.record("stations", key: "st-1") == stamped)
        #expect(try network.disagreements(["admin"], on: ["stations/st-1"]).isEmpty)
    }

    private func send(_ line: String, to daemon: DaemonSession) -> DaemonSession.Output {
        Array(line.utf8).withUnsafeBytes { daemon.handle(line: $0) }
    }
}
