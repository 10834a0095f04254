import Foundation
import GRDB
import SyncProtocol
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// What a client written from protocol/ alone, or an attacker, can send: every number at its
/// edges, records the spec forbids, renamings of ids it does not own. The real daemon answers
/// each with a reply or a stable error code, keeps serving, and its store stays whole.
@Suite struct HostileInputTests {
    static let stableCodes: Set<String> = [
        "bad_json", "invalid_utf8", "not_object", "unknown_type", "missing_field", "wrong_type", "invalid_value",
        "too_many_records", "hello_required", "already_greeted", "replica_clash", "replica_diverged",
        "line_too_long", "unsupported_protocol", "bad_token", "token_expired", "token_revoked", "busy", "timeout",
    ]
    static let replyTypes: Set<String> = ["welcome", "pushed", "changes", "subscribed", "pong", "error"]

    /// One numeric member of one message, with the largest value the spec allows (`@` stands for
    /// the value under test; `$T` for the token).
    struct Member: CustomStringConvertible {
        let name: String
        let template: String
        let maximum: String
        /// Sent after a hello on the connection (false: the line is the hello).
        var greeted = true

        var description: String { name }
    }

    static let counterMax = "9007199254740991"
    static let wallMax = "140737488355327"
    static let int64Max = "9223372036854775807"

    static func checkin(key: String, ctx: String = "1", d: String = "0,1,1764000000000,0", at: String = "1764000000000")
        -> String
    {
        #"{"c":"checkins","k":"\#(key)","ctx":[["edge-rider",\#(ctx)]],"d":[\#(d)],"f":{"_deleted":false,"at":\#(at),"device":"phone","purpose":"rest","rider_id":"r-7","station_id":"st-001"}}"#
    }

    static func run(_ rows: String, writers: String = #"["edge-rider"]"#) -> String {
        #"{"c":"checkins","f":["at","device","purpose","rider_id","station_id"],"w":\#(writers),"rows":[\#(rows)]}"#
    }

    static let members: [Member] = [
        Member(name: "id", template: #"{"type":"ping","id":@}"#, maximum: int64Max),
        Member(
            name: "hello.protocol",
            template: #"{"type":"hello","id":1,"protocol":@,"replica":"edge-rider","token":"$T"}"#,
            maximum: "1000000", greeted: false),
        Member(
            name: "hello.cursor.seq",
            template:
                #"{"type":"hello","id":1,"protocol":2,"replica":"edge-rider","token":"$T","cursor":{"epoch":"e","seq":@}}"#,
            maximum: counterMax, greeted: false),
        Member(
            name: "hello.pushed.seq",
            template:
                #"{"type":"hello","id":1,"protocol":2,"replica":"edge-rider","token":"$T","pushed":{"epoch":"e","seq":@}}"#,
            maximum: counterMax, greeted: false),
        Member(
            name: "hello.lineage.counter",
            template:
                #"{"type":"hello","id":1,"protocol":2,"replica":"edge-rider","token":"$T","lineage":[{"token":"t1","counter":@}]}"#,
            maximum: counterMax, greeted: false),
        Member(
            name: "hello.sent",
            template: #"{"type":"hello","id":1,"protocol":2,"replica":"edge-rider","token":"$T","sent":[[1,@]]}"#,
            maximum: counterMax, greeted: false),
        Member(
            name: "hello.renamings.after",
            template:
                #"{"type":"hello","id":1,"protocol":2,"replica":"edge-rider","token":"$T","renamings":[{"old":"edge-old","after":@,"new":"edge-rider"}]}"#,
            maximum: counterMax, greeted: false),
        Member(
            name: "hello.renamings.through",
            template:
                #"{"type":"hello","id":1,"protocol":2,"replica":"edge-rider","token":"$T","renamings":[{"old":"edge-old","after":0,"through":@,"new":"edge-rider"}]}"#,
            maximum: counterMax, greeted: false),
        Member(name: "pull.cursor", template: #"{"type":"pull","id":2,"cursor":@}"#, maximum: counterMax),
        Member(name: "pull.limit", template: #"{"type":"pull","id":2,"cursor":0,"limit":@}"#, maximum: "1000"),
        Member(name: "subscribe.cursor", template: #"{"type":"subscribe","id":2,"cursor":@}"#, maximum: counterMax),
        Member(
            name: "push.pulled.seq",
            template: #"{"type":"push","id":2,"pulled":{"epoch":"e","seq":@},"records":[]}"#, maximum: counterMax),
        Member(
            name: "push.lineage.counter",
            template: #"{"type":"push","id":2,"lineage":[{"token":"t2","counter":@}],"records":[]}"#,
            maximum: counterMax),
        Member(
            name: "record.ctx.counter",
            template: #"{"type":"push","id":2,"records":[\#(checkin(key: "ci-ctx-@", ctx: "@"))]}"#,
            maximum: counterMax),
        Member(
            name: "record.d.index",
            template: #"{"type":"push","id":2,"records":[\#(checkin(key: "ci-di", d: "@,1,1764000000000,0"))]}"#,
            maximum: "0"),
        Member(
            name: "record.d.counter",
            template:
                #"{"type":"push","id":2,"records":[\#(checkin(key: "ci-dc", ctx: counterMax, d: "0,@,1764000000000,0"))]}"#,
            maximum: counterMax),
        Member(
            name: "record.d.wall",
            template: #"{"type":"push","id":2,"records":[\#(checkin(key: "ci-dw-@", d: "0,1,@,0"))]}"#,
            maximum: wallMax),
        Member(
            name: "record.d.logical",
            template: #"{"type":"push","id":2,"records":[\#(checkin(key: "ci-dl-@", d: "0,1,1764000000000,@"))]}"#,
            maximum: "65535"),
        Member(
            name: "record.list.index",
            template:
                #"{"type":"push","id":2,"records":[{"c":"stations","k":"st-001","ctx":[["edge-rider",1]],"f":{"_deleted":[[@,1,1764000000000,0,false]],"status":[[@,1,1764000000000,0,"full"]]}}]}"#,
            maximum: "0"),
        Member(
            name: "record.list.counter",
            template:
                #"{"type":"push","id":2,"records":[{"c":"stations","k":"st-001","ctx":[["edge-rider",\#(counterMax)]],"f":{"_deleted":[[0,@,1764000000000,0,false]],"status":[[0,@,1764000000000,0,"full"]]}}]}"#,
            maximum: counterMax),
        Member(
            name: "record.list.wall",
            template:
                #"{"type":"push","id":2,"records":[{"c":"stations","k":"st-001","ctx":[["edge-rider",1]],"f":{"_deleted":[[0,1,@,0,false]],"status":[[0,1,@,0,"full"]]}}]}"#,
            maximum: wallMax),
        Member(
            name: "record.at",
            template: #"{"type":"push","id":2,"records":[\#(checkin(key: "ci-at-@", at: "@"))]}"#,
            maximum: "253402300799999"),
        Member(
            name: "run.writer",
            template:
                #"{"type":"push","id":2,"records":[\#(run(#"["ci-rw",@,1,1764000000000,0,1764000000000,"phone","rest","r-7","st-001"]"#))]}"#,
            maximum: "0"),
        Member(
            name: "run.counter",
            template:
                #"{"type":"push","id":2,"records":[\#(run(#"["ci-rc-@",0,@,1764000000000,0,1764000000000,"phone","rest","r-7","st-001"]"#))]}"#,
            maximum: counterMax),
        Member(
            name: "run.wall",
            template:
                #"{"type":"push","id":2,"records":[\#(run(#"["ci-rwall-@",0,7,@,0,1764000000000,"phone","rest","r-7","st-001"]"#))]}"#,
            maximum: wallMax),
        Member(
            name: "run.logical",
            template:
                #"{"type":"push","id":2,"records":[\#(run(#"["ci-rl-@",0,8,1764000000000,@,1764000000000,"phone","rest","r-7","st-001"]"#))]}"#,
            maximum: "65535"),
    ]

    /// 0, -1, max-1, max and past max (past 64 bits where max is the 64-bit maximum).
    static func edges(of maximum: String) -> [String] {
        let top = Int64(maximum)!
        let past = top == .max ? "9223372036854775808" : String(top + 1)
        return ["0", "-1", String(top - 1), maximum, past].filter { $0 != "-1" || top >= 0 }
    }

    @Test func everyNumericMemberAtItsEdgesGetsAnAnswerAndTheDaemonKeepsServing() throws {
        let directory = TemporaryDirectory("edges")
        defer { directory.remove() }
        let data = directory.file("data")
        try DaemonProcess.command(["import-stations", "--data", data, RiderCLITests.stations])
        let daemon = try DaemonProcess(dataDirectory: data)
        let token = try daemon.token(role: "rider", subject: "r-7")
        let hello = #"{"type":"hello","id":1,"protocol":2,"replica":"edge-rider","token":"\#(token)"}"#
        var answered = 0
        for member in Self.members {
            for value in Self.edges(of: member.maximum) {
                let line = member.template.replacingOccurrences(of: "@", with: value).replacingOccurrences(
                    of: "$T", with: token)
                let socket = try LineSocket(port: daemon.port)
                if member.greeted {
                    try socket.send(line: hello)
                    let welcome = try JSONParser.parse(try #require(try socket.readLine(), "\(member) \(value)"))
                    try #require(welcome["type"] == .string("welcome"), "\(member) \(value): \(welcome)")
                }
                try socket.send(line: line)
                let reply = try JSONParser.parse(
                    try #require(try socket.readLine(), "no reply to \(member) = \(value)"))
                guard case .string(let type)? = reply["type"], Self.replyTypes.contains(type) else {
                    Issue.record("\(member) = \(value): \(reply)")
                    continue
                }
                if type == "error", case .string(let code)? = reply["code"] {
                    #expect(Self.stableCodes.contains(code), "\(member) = \(value): \(code)")
                }
                if member.name.hasSuffix(".wall"), value == Self.wallMax || value == String(Int64(Self.wallMax)! - 1) {
                    // The issue's clock poisoning: far-future stamps are refused record by record.
                    #expect(reply["type"] == .string("pushed"), "\(member) = \(value): \(reply)")
                    guard case .array(let refused)? = reply["refused"], let first = refused.first else {
                        Issue.record("\(member) = \(value) not refused: \(reply)")
                        continue
                    }
                    #expect(first["code"] == .string("clock_ahead"), "\(member) = \(value): \(reply)")
                }
                answered += 1
            }
        }
        #expect(answered >= Self.members.count * 4)
        // Still serving: a new connection is answered, and the store is whole.
        let socket = try LineSocket(port: daemon.port)
        try socket.send(line: #"{"type":"ping","id":"alive"}"#)
        #expect(try socket.readText() == #"{"type":"pong","id":"alive"}"#)
        let store = try SyncStore(.file(data + "/store.sqlite"), schema: YongaiCollections.schema)
        #expect(try store.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
        // Nothing stamped ahead of the daemon's clock got in: a far-future push is refused.
        let latest = try store.read { db in try Int64.fetchOne(db, sql: "SELECT hlc FROM _sync_meta") ?? 0 }
        #expect(latest >> 16 < Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000)
        try store.close()
        #expect(daemon.stop() == 0)
    }
}
