import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// Pushes and hellos the spec forbids or leaves open, answered one record or one renaming at a
/// time, so nothing a device cannot own or a collection does not allow gets in.
@Suite struct HostilePushTests {
    private func send(_ line: String, to daemon: DaemonSession) -> DaemonSession.Output {
        Array(line.utf8).withUnsafeBytes { daemon.handle(line: $0) }
    }

    private func greet(_ daemon: DaemonSession, replica: String, token: String, renamings: String? = nil) throws {
        let extra = renamings.map { #","renamings":\#($0)"# } ?? ""
        let output = send(
            #"{"type":"hello","id":1,"protocol":2,"replica":"\#(replica)","token":"\#(token)"\#(extra)}"#, to: daemon)
        guard case .welcome = output.messages.first else {
            throw SessionError(code: "no_welcome", "\(output.messages)")
        }
    }

    private func refusals(_ output: DaemonSession.Output) -> [String] {
        guard case .pushed(let result) = output.messages.first else { return ["no pushed: \(output.messages)"] }
        return result.refused.map(\.code)
    }

    /// Check-ins with only `rider_id`, or with `rider_id ""`, and a station without its
    /// position, are refused `missing_field` one by one; a complete one beside them lands.
    @Test func recordsMissingWhatTheirCollectionRequiresAreRefused() throws {
        let network = try Network()
        let rider = network.daemonSession()
        try greet(rider, replica: "phone-7", token: "rider:r-7")
        let full = #""at":1,"device":"phone","purpose":"rest","station_id":"st-1""#
        let output = send(
            """
            {"type":"push","id":2,"records":[\
            {"c":"checkins","k":"ci-only","ctx":[["phone-7",1]],"d":[0,1,1764000000000,0],"f":{"_deleted":false,"rider_id":"r-7"}},\
            {"c":"checkins","k":"ci-empty","ctx":[["phone-7",2]],"d":[0,2,1764000000000,0],"f":{"_deleted":false,"rider_id":"",\(full)}},\
            {"c":"checkins","k":"ci-good","ctx":[["phone-7",3]],"d":[0,3,1764000000000,0],"f":{"_deleted":false,"rider_id":"r-7",\(full)}}]}
            """, to: rider)
        #expect(refusals(output) == [RefusalCode.missingField, RefusalCode.missingField])
        #expect(try network.daemonStore.record("checkins", key: "ci-good") != nil)
        #expect(try network.daemonStore.record("checkins", key: "ci-only") == nil)

        let admin = network.daemonSession()
        try greet(admin, replica: "ops-laptop", token: "admin:ops")
        let station = send(
            #"{"type":"push","id":2,"records":[{"c":"stations","k":"st-9","ctx":[["ops-laptop",1]],"d":[0,1,1764000000000,0],"f":{"_deleted":false,"kind":"charging","name":"No Place"}}]}"#,
            to: admin)
        #expect(refusals(station) == [RefusalCode.missingField])
        #expect(try network.daemonStore.record("stations", key: "st-9") == nil)
    }

    /// A rider's renamings of replica ids it does not own are not kept, nor cycles, nor more
    /// than the per-principal cap: five hellos no longer fill every welcome.
    @Test func renamingsAreKeptOnlyForTheSendersOwnReplicas() throws {
        let network = try Network()
        // Another principal's replica, bound at its hello.
        try greet(network.daemonSession(), replica: "kiosk-1", token: "station:st-1")
        // Not its own: an id bound to another principal, and an unbound id moved to an id that
        // is not the sender's.
        try greet(
            network.daemonSession(), replica: "phone-7", token: "rider:r-7",
            renamings: #"[{"old":"kiosk-1","after":0,"new":"phone-7"},{"old":"ghost-1","after":0,"new":"ghost-2"}]"#)
        #expect(try network.daemonStore.renamings().isEmpty)
        // Its own: a copy of its store moved from phone-7 to phone-8.
        try greet(
            network.daemonSession(), replica: "phone-8", token: "rider:r-7",
            renamings: #"[{"old":"phone-7","after":3,"through":5,"new":"phone-8"}]"#)
        #expect(try network.daemonStore.renamings().map(\.new.rawValue) == ["phone-8"])
        // A cycle back to phone-7 is not kept.
        try greet(
            network.daemonSession(), replica: "phone-8", token: "rider:r-7",
            renamings: #"[{"old":"phone-8","after":1,"new":"phone-7"}]"#)
        #expect(try network.daemonStore.renamings().count == 1)
        // A flood: a dozen replica ids of its own, each renamed to the next, stops at the cap.
        for index in 0..<12 {
            try greet(network.daemonSession(), replica: "phone-a\(index)", token: "rider:r-7")
        }
        let flood = (0..<11).map { #"{"old":"phone-a\#($0)","after":0,"new":"phone-a\#($0 + 1)"}"# }
        try greet(
            network.daemonSession(), replica: "phone-a11", token: "rider:r-7",
            renamings: "[\(flood.joined(separator: ","))]")
        let kept = try network.daemonStore.renamings()
        #expect(kept.count == 8, "\(kept)")
    }
}

extension HostilePushTests {
    /// A renaming's `after` at 2^63 - 1 (accepted before) is out of range; a pull from past
    /// the end is answered with an empty batch, not an error.
    @Test func outOfRangeRenamingsAndCursorsPastTheEnd() throws {
        let network = try Network()
        let daemon = network.daemonSession()
        let hello = send(
            #"{"type":"hello","id":1,"protocol":2,"replica":"phone-7","token":"rider:r-7","renamings":[{"old":"phone-6","after":9223372036854775807,"new":"phone-7"}]}"#,
            to: daemon)
        guard case .error(let error) = hello.messages.first else {
            Issue.record("accepted: \(hello.messages)")
            return
        }
        #expect(error.code == .invalidValue)
        try greet(daemon, replica: "phone-7", token: "rider:r-7")
        let pull = send(#"{"type":"pull","id":2,"cursor":9007199254740991}"#, to: daemon)
        guard case .changes(_, let records, let cursor, let more, _) = pull.messages.first else {
            Issue.record("no changes: \(pull.messages)")
            return
        }
        #expect(records.isEmpty && !more)
        #expect(cursor == 9_007_199_254_740_991)
    }
}
