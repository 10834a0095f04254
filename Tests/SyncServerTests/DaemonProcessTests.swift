import Foundation
import GRDB
import SyncProtocol
import SyncTesting
import Testing

/// The real `yongai-syncd` process: bad input of every kind leaves the store as it was, a
/// slow or garbage-spewing connection stalls nobody, SIGTERM lets the batch in flight finish.
@Suite struct DaemonProcessTests {
    static let stations = TranscriptTests.protocolDirectory + "/examples/stations.csv"

    /// Everything an admin can pull: the whole store, as JSON lines.
    static func everything(_ daemon: DaemonProcess, token: String) throws -> [JSONValue] {
        let socket = try LineSocket(port: daemon.port)
        try socket.send(line: #"{"type":"hello","id":1,"protocol":2,"replica":"auditor","token":"\#(token)"}"#)
        _ = try socket.readLine()
        try socket.send(line: #"{"type":"pull","id":2,"cursor":0}"#)
        guard let reply = try socket.readLine(), case .array(let elements)? = try JSONParser.parse(reply)["records"]
        else {
            throw LineSocket.Failure(description: "no changes reply")
        }
        // One entry per record: a run's rows spread out, each with its run's collection and fields.
        return elements.flatMap { element -> [JSONValue] in
            guard case .array(let rows)? = element["rows"] else { return [element] }
            return rows.map { .array([element["c"] ?? .null, element["f"] ?? .null, $0]) }
        }
    }

    @Test func badInputOfEveryKindChangesNothingCommitted() throws {
        let directory = TemporaryDirectory("bad-input")
        defer { directory.remove() }
        let data = directory.file("data")
        try DaemonProcess.command(["import-stations", "--data", data, Self.stations])
        let daemon = try DaemonProcess(dataDirectory: data)
        let admin = try daemon.token(role: "admin", subject: "auditor")
        let rider = try daemon.token(role: "rider", subject: "r-7")
        let before = try Self.everything(daemon, token: admin)
        #expect(before.count == 5)

        let checkin =
            #"{"c":"checkins","k":"K","ctx":[["phone",1]],"d":[0,1,1764000000000,0],"f":{"_deleted":false,"rider_id":"R","station_id":"st-001","purpose":"P","at":1764000000000,"device":"phone"}}"#
        func push(_ id: Int, _ record: String) -> String { #"{"type":"push","id":\#(id),"records":[\#(record)]}"# }
        let socket = try LineSocket(port: daemon.port)
        let bad: [(String, String)] = [
            ("not json at all", "bad_json"),
            ("[]", "not_object"),
            (#"{"type":"teleport","id":1}"#, "unknown_type"),
            (#"{"type":"pull","id":2,"cursor":0}"#, "hello_required"),
            (#"{"type":"hello","id":3,"protocol":2,"replica":"phone","token":"\#(rider)"}"#, "welcome"),
            (#"{"type":"push","id":4}"#, "missing_field"),
            (#"{"type":"push","id":5,"records":"many"}"#, "wrong_type"),
            (push(6, checkin.replacingOccurrences(of: "\"d\":[0,1,", with: "\"d\":[0,9,")), "invalid_value"),
            (push(7, checkin.replacingOccurrences(of: "checkins", with: "parking")), "pushed"),
            (
                push(
                    8,
                    checkin.replacingOccurrences(of: "\"P\"", with: "\"party\"").replacingOccurrences(
                        of: "\"R\"", with: "\"r-7\"")), "pushed"
            ),
            (
                push(
                    9,
                    checkin.replacingOccurrences(of: "\"P\"", with: "\"rest\"").replacingOccurrences(
                        of: "\"R\"", with: "\"r-8\"")), "pushed"
            ),
            (
                push(
                    10,
                    checkin.replacingOccurrences(of: "\"at\":1764000000000", with: "\"at\":-5").replacingOccurrences(
                        of: "\"R\"", with: "\"r-7\"")), "pushed"
            ),
            (push(11, checkin.replacingOccurrences(of: "\"K\"", with: "\"\"")), "pushed"),
        ]
        for (line, expected) in bad {
            try socket.send(line: line)
            let reply = try JSONParser.parse(try #require(try socket.readLine()))
            if expected == "pushed" {
                #expect(reply["type"] == .string("pushed"), "\(line)")
                #expect(reply["accepted"] == .integer(0), "\(line)")
                guard case .array(let refused)? = reply["refused"] else { continue }
                #expect(refused.count == 1, "\(line)")
            } else if expected == "welcome" {
                #expect(reply["type"] == .string("welcome"))
            } else {
                #expect(reply["code"] == .string(expected), "\(line)")
            }
        }
        try socket.send(line: [0x7B, 0xC3, 0x28, 0x7D])
        #expect(try JSONParser.parse(try #require(try socket.readLine()))["code"] == .string("invalid_utf8"))
        try socket.send(
            line: "{\"type\":\"ping\",\"id\":1,\"pad\":\"" + String(repeating: "x", count: 1_048_600) + "\"}")
        #expect(try JSONParser.parse(try #require(try socket.readLine()))["code"] == .string("line_too_long"))
        #expect(try socket.readLine() == nil)
        let bogus = try LineSocket(port: daemon.port)
        try bogus.send(line: #"{"type":"hello","id":1,"protocol":2,"replica":"x","token":"\#(rider)tampered"}"#)
        #expect(try JSONParser.parse(try #require(try bogus.readLine()))["code"] == .string("bad_token"))
        #expect(try bogus.readLine() == nil)

        #expect(try Self.everything(daemon, token: admin) == before)
        #expect(daemon.stop() == 0)
    }

    @Test func aStalledOrNoisyConnectionStallsNobodyElse() throws {
        let directory = TemporaryDirectory("stall")
        defer { directory.remove() }
        let data = directory.file("data")
        try DaemonProcess.command(["import-stations", "--data", data, Self.stations])
        let daemon = try DaemonProcess(dataDirectory: data)
        let admin = try daemon.token(role: "admin", subject: "ops")
        // A connection that sends half a line and goes quiet, and one that spews garbage.
        let stalled = try LineSocket(port: daemon.port)
        stalled.sendRaw(Array(#"{"type":"hello","id":1,"proto"#.utf8))
        let noisy = try LineSocket(port: daemon.port)
        for _ in 0..<200 { try noisy.send(line: "garbage garbage garbage") }
        // A stalled daemon would leave this read without an answer (LineSocket gives up after 10 s).
        #expect(try Self.everything(daemon, token: admin).count == 5)
        #expect(daemon.stop() == 0)
    }

    /// SIGTERM while a large push is being merged: the daemon exits 0, the store passes an
    /// integrity check, and the batch is wholly there or wholly absent.
    @Test func sigtermFinishesTheBatchInFlightAndClosesTheStore() throws {
        let directory = TemporaryDirectory("sigterm")
        defer { directory.remove() }
        let data = directory.file("data")
        let daemon = try DaemonProcess(dataDirectory: data, logLevel: "info")
        let token = try daemon.token(role: "admin", subject: "ops")
        let socket = try LineSocket(port: daemon.port)
        try socket.send(line: #"{"type":"hello","id":1,"protocol":2,"replica":"loader","token":"\#(token)"}"#)
        _ = try socket.readLine()
        let records = (1...1_000).map { index in
            #"{"c":"checkins","k":"k\#(index)","ctx":[["loader",\#(index)]],"d":[0,\#(index),1764000000000,0],"f":{"_deleted":false,"rider_id":"r-1","station_id":"st-1","purpose":"rest","at":1764000000000,"device":"d"}}"#
        }
        try socket.send(line: #"{"type":"push","id":2,"records":[\#(records.joined(separator: ","))]}"#)
        usleep(20_000)
        #expect(daemon.stop() == 0)
        let reply = try socket.readLine(timeout: 5)
        let queue = try DatabaseQueue(path: data + "/store.sqlite")
        let (check, count) = try queue.read { db in
            (
                try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins") ?? -1
            )
        }
        #expect(check == ["ok"])
        #expect(count == 0 || count == 1_000)
        // A batch that landed was answered before the connection closed, and only then.
        let answered = try reply.map { try JSONParser.parse($0)["type"] == .string("pushed") } ?? false
        #expect(answered == (count == 1_000))
        #expect(daemon.standardError().contains("store closed"))
    }
}
