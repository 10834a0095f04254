import SyncCore
import SyncProtocol
import Testing

/// Records the spec forbids are refused at decode with `invalid_value`, the whole push with
/// them (a correct writer never sends one): each was accepted before.
@Suite struct ForbiddenRecordTests {
    static let fields =
        #""f":{"_deleted":false,"at":1,"device":"phone","purpose":"rest","rider_id":"r-7","station_id":"st-1"}"#

    static func push(_ records: String) -> String {
        #"{"type":"push","id":1,"records":[\#(records)]}"#
    }

    static func row(_ key: String, writer: Int = 0, counter: Int = 1) -> String {
        #"["\#(key)",\#(writer),\#(counter),1764000000000,0,1,"phone","rest","r-7","st-1"]"#
    }

    static func run(writers: [String], rows: [String]) -> String {
        let names = writers.map { "\"\($0)\"" }.joined(separator: ",")
        return
            #"{"c":"checkins","f":["at","device","purpose","rider_id","station_id"],"w":[\#(names)],"rows":[\#(rows.joined(separator: ","))]}"#
    }

    static let forbidden: [(String, String)] = [
        (
            "one write id with two timestamps",
            push(
                #"{"c":"stations","k":"st-1","ctx":[["a",1]],"d":[0,1,1764000000000,0],"f":{"_deleted":false,"name":[[0,1,1764000000999,0,"X"]]}}"#
            )
        ),
        (
            "one write id with two timestamps, both in lists",
            push(
                #"{"c":"stations","k":"st-1","ctx":[["a",2]],"f":{"_deleted":[[0,2,5,0,false]],"name":[[0,2,6,0,"X"]]}}"#
            )
        ),
        (
            "a key twice in one batch",
            push(
                #"{"c":"checkins","k":"ci-1","ctx":[["a",1]],"d":[0,1,5,0],\#(fields)},{"c":"checkins","k":"ci-1","ctx":[["a",1]],"d":[0,1,5,0],\#(fields)}"#
            )
        ),
        ("a key twice in one run", push(run(writers: ["a"], rows: [row("ci-1"), row("ci-1")]))),
        (
            "a key in a run and in a record",
            push(
                run(writers: ["a"], rows: [row("ci-1")])
                    + #",{"c":"checkins","k":"ci-1","ctx":[["a",1]],"d":[0,1,1764000000000,0],\#(fields)}"#)
        ),
        ("a run with no writers", push(run(writers: [], rows: [row("ci-1")]))),
        (
            "a run with 65 writers",
            push(run(writers: (0...64).map { "w\($0)" }, rows: [row("ci-1", writer: 64)]))
        ),
        ("a run naming a writer twice", push(run(writers: ["a", "a"], rows: [row("ci-1")]))),
        (
            "ctx out of order",
            push(#"{"c":"checkins","k":"ci-1","ctx":[["b",1],["a",1]],"d":[1,1,5,0],\#(fields)}"#)
        ),
        (
            "siblings out of order",
            push(
                #"{"c":"stations","k":"st-1","ctx":[["a",1],["b",1]],"d":[0,1,5,0],"f":{"_deleted":false,"status":[[1,1,5,0,"open"],[0,1,5,0,"full"]]}}"#
            )
        ),
        (
            "a counter past 2^53 - 1",
            push(#"{"c":"checkins","k":"ci-1","ctx":[["a",9007199254740992]],"d":[0,1,5,0],\#(fields)}"#)
        ),
        ("a dot past its ctx counter", push(#"{"c":"checkins","k":"ci-1","ctx":[["a",1]],"d":[0,2,5,0],\#(fields)}"#)),
        ("a run counter past 2^53 - 1", push(run(writers: ["a"], rows: [row("ci-1", counter: 1 << 53)]))),
    ]

    @Test(arguments: forbidden.map(\.0))
    func aForbiddenRecordFailsThePushWithInvalidValue(name: String) throws {
        let line = try #require(Self.forbidden.first { $0.0 == name }?.1)
        let result = Array(line.utf8).withUnsafeBytes { buffer in
            Result { () throws(ProtocolError) in try ClientMessage.decode(buffer) }
        }
        guard case .failure(let error) = result else {
            Issue.record("\(name) was accepted")
            return
        }
        #expect(error.code == .invalidValue, "\(name): \(error)")
        #expect(error.id == .integer(1))
    }

    /// The same shapes done right are taken: fields in any member order (a JSON object's order
    /// carries nothing), two writes each with its own timestamp, 64 writers.
    @Test func theirLawfulTwinsAreTaken() throws {
        let lawful = [
            Self.push(
                #"{"c":"checkins","k":"ci-1","ctx":[["a",1]],"d":[0,1,5,0],"f":{"station_id":"st-1","_deleted":false,"at":1,"device":"phone","purpose":"rest","rider_id":"r-7"}}"#
            ),
            Self.push(
                #"{"c":"stations","k":"st-1","ctx":[["a",2]],"f":{"_deleted":[[0,2,6,0,false]],"name":[[0,1,5,0,"X"]]}}"#
            ),
            Self.push(Self.run(writers: (0...63).map { "w\($0)" }, rows: [Self.row("ci-1", writer: 63)])),
        ]
        for line in lawful {
            let result = Array(line.utf8).withUnsafeBytes { buffer in
                Result { () throws(ProtocolError) in try ClientMessage.decode(buffer) }
            }
            #expect(throws: Never.self, "\(line)") { try result.get() }
        }
    }

    /// Every truncation of a push (a line cut anywhere, as the fuzzer cut one inside a stamp)
    /// is refused with an error, never read past its end.
    @Test func everyPrefixOfAPushIsRefusedNotTrapped() throws {
        let line = Self.push(
            #"{"c":"stations","k":"st-1","ctx":[["a",1],["b",2]],"d":[0,1,5,0],"f":{"_deleted":false,"lon":[[0,1,5,0,121.5],[1,2,6,1,-0.25e1]],"name":"N"}},"#
                + Self.run(writers: ["a"], rows: [Self.row("ci-1"), Self.row("ci-2", counter: 2)]))
        let bytes = Array(line.utf8)
        for end in 0..<bytes.count {
            let result = bytes[..<end].withUnsafeBytes { buffer in
                Result { () throws(ProtocolError) in try ClientMessage.decode(buffer) }
            }
            guard case .failure = result else {
                Issue.record("a push cut at byte \(end) was taken")
                continue
            }
        }
        let whole = bytes.withUnsafeBytes { buffer in
            Result { () throws(ProtocolError) in try ClientMessage.decode(buffer) }
        }
        #expect(throws: Never.self) { try whole.get() }
    }
}
