import SyncCore
import SyncTesting
import Testing

@testable import SyncProtocol

@Suite struct MessageTests {
    static func decodeClient(_ text: String) throws(ProtocolError) -> ClientMessage {
        try Array(text.utf8).withUnsafeBytes { buffer in
            Result { () throws(ProtocolError) in try ClientMessage.decode(buffer) }
        }.get()
    }

    static func decodeDaemon(_ bytes: [UInt8]) throws(ProtocolError) -> DaemonMessage {
        try bytes.dropLast().withUnsafeBytes { buffer in
            Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }
        }.get()
    }

    static func randomRecords(seed: UInt64) -> [KeyedRecord] {
        var rng = SplitMix64(seed: seed)
        let history = RandomHistory(replicaCount: 3, operations: 30, using: &rng)
        return history.snapshots.filter(\.exists).enumerated().map {
            KeyedRecord(collection: "things", key: "k\($0.offset)", state: $0.element)
        }
    }

    @Test func recordStatesRoundTripExactly() throws {
        for seed in UInt64(0)..<300 {
            let records = Self.randomRecords(seed: seed)
            let message = ClientMessage.push(id: .integer(Int64(seed)), records: records)
            let line = message.line()
            #expect(line.last == UInt8(ascii: "\n"))
            #expect(!line.dropLast().contains(UInt8(ascii: "\n")))
            let decoded = try Self.decodeClient(String(decoding: line.dropLast(), as: UTF8.self))
            #expect(decoded == message, "seed \(seed)")
        }
    }

    /// The fast byte path and the generic JSON path read every message the same way.
    @Test func theFastRecordPathAgreesWithTheGenericOne() throws {
        for seed in UInt64(0)..<200 {
            let records = Self.randomRecords(seed: seed)
            for (message, count) in [
                (DaemonMessage.changes(id: .integer(7), records: records, cursor: 9, more: false), records.count),
                (DaemonMessage.changes(id: nil, records: [], cursor: 9, more: true), 0),
            ] {
                let line = Array(message.line().dropLast())
                // The fast path must really read the records (a fallback would hide its faults).
                let raw = try line.withUnsafeBytes { buffer in try JSONParser.parseMessage(buffer) }
                #expect(raw.recordCount == count, "seed \(seed)")
                let fast = try line.withUnsafeBytes { buffer in
                    try Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }.get()
                }
                let generic = try DaemonMessage.decode(try JSONParser.parse(line))
                #expect(fast == generic && fast == message, "seed \(seed)")
            }
            let push = ClientMessage.push(id: .string("p"), records: records)
            let pushLine = Array(push.line().dropLast())
            let rawPush = try pushLine.withUnsafeBytes { buffer in try JSONParser.parseMessage(buffer) }
            #expect(rawPush.recordCount == records.count, "seed \(seed)")
            #expect(try Self.decodeClient(String(decoding: pushLine, as: UTF8.self)) == push)
        }
    }

    @Test func everyDaemonMessageRoundTrips() throws {
        let cursor = StreamCursor(epoch: "e1", seq: 42)
        let messages: [DaemonMessage] = [
            .welcome(
                .init(
                    id: .integer(1), protocolVersion: 2, daemon: ReplicaID(unchecked: "daemon"), role: "rider",
                    subject: "r1", repush: true, cursor: cursor, maximumLine: 1 << 20, maximumBatch: 1000)),
            .pushed(
                .init(
                    id: .string("p"), accepted: 2, unchanged: 1,
                    refused: [.init(index: 1, collection: "checkins", key: "c", code: "forbidden", message: "no")],
                    cursor: cursor)),
            .changes(id: .integer(3), records: Self.randomRecords(seed: 1), cursor: 10, more: true),
            .changes(id: nil, records: [], cursor: 11, more: false),
            .subscribed(id: .integer(4), cursor: 11),
            .pong(id: .integer(5)),
            .error(ProtocolError(.badJSON, "the line is not JSON", id: nil)),
            .error(ProtocolError(.helloRequired, "say hello first", id: .integer(6))),
            .error(
                ProtocolError(
                    .replicaDiverged, "a copy pushed", id: .integer(7),
                    lineage: [.init(token: "a1", counter: 3), .init(token: "b2", counter: 9)])),
        ]
        for message in messages {
            #expect(try Self.decodeDaemon(message.line()) == message)
        }
    }

    @Test func badMessagesGetStableCodesAndKeepTheirID() {
        let cases: [(String, ProtocolError.Code, RequestID?)] = [
            ("not json", .badJSON, nil),
            ("[1,2]", .notObject, nil),
            (#"{"id":1}"#, .missingField, .integer(1)),
            (#"{"type":7,"id":1}"#, .wrongType, .integer(1)),
            (#"{"type":"dance","id":"x"}"#, .unknownType, .string("x")),
            (#"{"type":"pull","id":2}"#, .missingField, .integer(2)),
            (#"{"type":"pull","id":2,"cursor":"10"}"#, .wrongType, .integer(2)),
            (#"{"type":"pull","id":2,"cursor":-1}"#, .invalidValue, .integer(2)),
            (#"{"type":"pull","id":2,"cursor":1,"limit":0}"#, .invalidValue, .integer(2)),
            (#"{"type":"push","id":3,"records":{}}"#, .wrongType, .integer(3)),
            (#"{"type":"push","id":3,"records":[{"c":"x"}]}"#, .invalidValue, .integer(3)),
            (#"{"type":"hello","id":4,"protocol":2,"replica":"has space","token":"t"}"#, .invalidValue, .integer(4)),
            (#"{"type":"ping","id":[1]}"#, .wrongType, nil),
            (#"{"type":"hello","id":5,"protocol":2,"replica":"r","token":"t","lineage":{}}"#, .wrongType, .integer(5)),
            (
                #"{"type":"hello","id":5,"protocol":2,"replica":"r","token":"t","lineage":[{"token":"a b","counter":1}]}"#,
                .invalidValue, .integer(5)
            ),
            (
                #"{"type":"hello","id":5,"protocol":2,"replica":"r","token":"t","lineage":[{"token":"a","counter":0}]}"#,
                .invalidValue, .integer(5)
            ),
            (#"{"type":"push","id":6,"records":[],"lineage":[{"token":"a"}]}"#, .missingField, .integer(6)),
            (#"{"type":"push","id":6,"records":[],"lineage":["a"]}"#, .wrongType, .integer(6)),
            (#"{"type":"hello","id":7,"protocol":2,"replica":"r","token":"t","sent":{}}"#, .wrongType, .integer(7)),
            (
                #"{"type":"hello","id":7,"protocol":2,"replica":"r","token":"t","sent":[[0,3]]}"#, .invalidValue,
                .integer(7)
            ),
            (
                #"{"type":"hello","id":7,"protocol":2,"replica":"r","token":"t","sent":[[5,2]]}"#, .invalidValue,
                .integer(7)
            ),
            (
                #"{"type":"hello","id":7,"protocol":2,"replica":"r","token":"t","sent":[[1]]}"#, .invalidValue,
                .integer(7)
            ),
            (
                #"{"type":"hello","id":7,"protocol":2,"replica":"r","token":"t","sent":[[1,"2"]]}"#, .invalidValue,
                .integer(7)
            ),
        ]
        for (text, code, id) in cases {
            let error = #expect(throws: ProtocolError.self) { try Self.decodeClient(text) }
            #expect(error?.code == code, "\(text)")
            #expect(error?.id == id, "\(text)")
        }
        let invalidUTF8: [UInt8] = [0x7B, 0xFF, 0x7D]
        let error = #expect(throws: ProtocolError.self) {
            try invalidUTF8.withUnsafeBytes { buffer in
                Result { () throws(ProtocolError) in try ClientMessage.decode(buffer) }
            }.get()
        }
        #expect(error?.code == .invalidUTF8)
    }

    @Test func lineageTravelsInHelloAndPush() throws {
        let tips = [LineageEntry(token: "t2", counter: 9), LineageEntry(token: "t1", counter: 4)]
        let hello = ClientMessage.hello(
            .init(
                id: .integer(1), protocolVersion: 2, replica: ReplicaID(unchecked: "phone"), token: "tok",
                cursor: nil, lineage: tips))
        #expect(try Self.decodeClient(String(decoding: hello.line(), as: UTF8.self)) == hello)
        let withSent = ClientMessage.hello(
            .init(
                id: .integer(1), protocolVersion: 2, replica: ReplicaID(unchecked: "phone"), token: "tok",
                cursor: nil, lineage: tips, sent: CounterRanges([1...4, 7...9])))
        #expect(String(decoding: withSent.line(), as: UTF8.self).contains(#""sent":[[1,4],[7,9]]"#))
        #expect(try Self.decodeClient(String(decoding: withSent.line(), as: UTF8.self)) == withSent)
        let tooManyRanges = (1...257).map { "[\($0 * 2),\($0 * 2)]" }.joined(separator: ",")
        let rangesError = #expect(throws: ProtocolError.self) {
            try Self.decodeClient(
                #"{"type":"hello","id":1,"protocol":2,"replica":"r","token":"t","sent":["# + tooManyRanges + "]}")
        }
        #expect(rangesError?.code == .invalidValue)
        let push = ClientMessage.push(
            id: .integer(2), records: Self.randomRecords(seed: 3), lineage: tips.reversed(),
            pulled: StreamCursor(epoch: "e1", seq: 42))
        #expect(try Self.decodeClient(String(decoding: push.line(), as: UTF8.self)) == push)
        let badPulled = #expect(throws: ProtocolError.self) {
            try Self.decodeClient(#"{"type":"push","id":4,"records":[],"pulled":{"epoch":"e1","seq":-1}}"#)
        }
        #expect(badPulled?.code == .invalidValue)
        // The daemon's fast record path still reads a push that carries lineage.
        let pushLine = Array(push.line().dropLast())
        let raw = try pushLine.withUnsafeBytes { buffer in try JSONParser.parseMessage(buffer) }
        #expect(raw.recordCount == Self.randomRecords(seed: 3).count)
        #expect(raw.records?.isEmpty == false)
        let tooMany = (1...65).map { LineageEntry(token: "t\($0)", counter: Int64($0)) }
        let long = ClientMessage.hello(
            .init(
                id: .integer(3), protocolVersion: 2, replica: ReplicaID(unchecked: "phone"), token: "tok",
                cursor: nil, lineage: tooMany))
        let error = #expect(throws: ProtocolError.self) {
            try Self.decodeClient(String(decoding: long.line(), as: UTF8.self))
        }
        #expect(error?.code == .invalidValue)
    }

    @Test func renamingsTravelInHelloWelcomeAndChanges() throws {
        let renamings = [
            ReplicaRenaming(
                old: ReplicaID(unchecked: "kiosk-1"), new: ReplicaID(unchecked: "kiosk-1b"), after: 7, through: 12),
            ReplicaRenaming(old: ReplicaID(unchecked: "phone"), new: ReplicaID(unchecked: "phone-2"), after: 0),
        ]
        let hello = ClientMessage.hello(
            .init(
                id: .integer(1), protocolVersion: 2, replica: ReplicaID(unchecked: "kiosk-1b"), token: "tok",
                cursor: nil, renamings: renamings))
        #expect(try Self.decodeClient(String(decoding: hello.line(), as: UTF8.self)) == hello)
        let welcome = DaemonMessage.welcome(
            .init(
                id: .integer(1), protocolVersion: 2, daemon: ReplicaID(unchecked: "daemon"), role: "staff",
                subject: "desk", repush: false, cursor: StreamCursor(epoch: "e", seq: 0), maximumLine: 1 << 20,
                maximumBatch: 100, renamings: renamings))
        #expect(try Self.decodeDaemon(welcome.line()) == welcome)
        let changes = DaemonMessage.changes(
            id: nil, records: Self.randomRecords(seed: 2), cursor: 5, more: false, renamings: renamings)
        #expect(try Self.decodeDaemon(changes.line()) == changes)
        #expect(String(decoding: changes.line(), as: UTF8.self).contains(#""after":7,"through":12,"new":"kiosk-1b""#))
        // Nonsense is refused with a stable code, never a crash.
        let base = #"{"type":"hello","id":1,"protocol":2,"replica":"a","token":"t","renamings":"#
        for bad in [
            #"[{"old":"a","after":3,"new":"a"}]"#, #"[{"old":"a","after":-1,"new":"b"}]"#,
            #"[{"old":"a","after":5,"through":4,"new":"b"}]"#, #"[{"old":"a b","after":1,"new":"b"}]"#,
            #"[{"old":"a","new":"b"}]"#, #"{"old":"a"}"#, #"[7]"#,
        ] {
            let error = #expect(throws: ProtocolError.self) { try Self.decodeClient(base + bad + "}") }
            #expect(error.map { [.invalidValue, .wrongType, .missingField].contains($0.code) } == true, "\(bad)")
        }
        let tooMany = (1...65).map {
            #"{"old":"a\#($0)","after":1,"new":"b\#($0)"}"#
        }
        let error = #expect(throws: ProtocolError.self) {
            try Self.decodeClient(base + "[" + tooMany.joined(separator: ",") + "]}")
        }
        #expect(error?.code == .invalidValue)
    }

    @Test func aPushOverTheBatchLimitIsRefused() {
        let records = Array(Self.randomRecords(seed: 2).prefix(5))
        let line = ClientMessage.push(id: .integer(1), records: records).line()
        let error = #expect(throws: ProtocolError.self) {
            try line.dropLast().withUnsafeBytes { buffer in
                Result { () throws(ProtocolError) in try ClientMessage.decode(buffer, maximumBatch: 4) }
            }.get()
        }
        #expect(error?.code == .tooManyRecords)
    }

    @Test func malformedRecordsAreRefused() {
        let bad = [
            #"{"c":"x","k":"y","ctx":[],"f":{"a":1}}"#,  // default dot missing
            #"{"c":"x","k":"y","ctx":[["r",1]],"d":[0,2,1,0],"f":{"a":1}}"#,  // dot outside the context
            #"{"c":"x","k":"y","ctx":[["r",1]],"d":[1,1,1,0],"f":{"a":1}}"#,  // replica index out of range
            #"{"c":"x","k":"y","ctx":[["r",1],["r",2]],"d":[0,1,1,0],"f":{"a":1}}"#,  // replica twice
            #"{"c":"x","k":"y","ctx":[["r",0]],"f":{}}"#,  // counter 0
            #"{"c":"x","k":"y","ctx":[["r",1]],"d":[0,1,1,70000],"f":{"a":1}}"#,  // logical too large
            #"{"c":"x","k":"y","ctx":[["r",1]],"d":[0,1,1,0],"f":{"a":[1]}}"#,  // malformed sibling list
            #"{"c":"x","k":"y","ctx":[["r",1]],"d":[0,1,1,0],"f":{"a":{"b":1}}}"#,  // object value
            #"{"c":"x","k":"y","ctx":[["r",1]],"d":[0,1,1,0],"f":{},"z":1}"#,  // unknown member
        ]
        for record in bad {
            #expect(throws: ProtocolError.self, "\(record)") {
                try KeyedRecord(json: try JSONParser.parse(record))
            }
        }
    }

    /// Consecutive single writes of one collection and field set travel as one run, in
    /// order with whole records, and come back as the same records.
    @Test func singleWritesTravelAsRuns() throws {
        let phone = ReplicaID(unchecked: "phone-r7")
        let kiosk = ReplicaID(unchecked: "kiosk-3")
        func checkin(_ key: String, _ replica: ReplicaID, _ counter: Int64) throws -> KeyedRecord {
            var state = RecordState()
            state.put(
                [("at", .integer(1_764_000_000_000)), ("rider_id", .text("r-7")), ("station_id", .text("st-1"))],
                dot: Dot(replica: replica, counter: counter), timestamp: HybridTimestamp(wallMillis: 5, logical: 1))
            return KeyedRecord(collection: "checkins", key: key, state: state)
        }
        var conflicted = try checkin("ci-3", phone, 4).state
        conflicted.put(
            [("rider_id", .text("r-8"))], dot: Dot(replica: kiosk, counter: 9),
            timestamp: HybridTimestamp(wallMillis: 6, logical: 0), observed: VersionVector())
        let records = [
            try checkin("ci-1", phone, 1), try checkin("ci-2", kiosk, 2),
            KeyedRecord(collection: "checkins", key: "ci-3", state: conflicted), try checkin("ci-4", phone, 5),
        ]
        let line = DaemonMessage.changes(id: .integer(1), records: records, cursor: 4, more: false).line()
        let json = try JSONParser.parse(Array(line.dropLast()))
        guard case .array(let list)? = json["records"] else {
            Issue.record("no records list")
            return
        }
        #expect(list.count == 3, "a run of two, the conflicted record whole, a run of one")
        #expect(list[0]["w"] == .array([.string("phone-r7"), .string("kiosk-3")]))
        #expect(list[0]["f"] == .array([.string("at"), .string("rider_id"), .string("station_id")]))
        #expect(list[0]["rows"].map { if case .array(let rows) = $0 { rows.count } else { 0 } } == 2)
        #expect(list[1]["ctx"] != nil && list[1]["rows"] == nil)
        let decoded = try Self.decodeDaemon(line)
        #expect(decoded == DaemonMessage.changes(id: .integer(1), records: records, cursor: 4, more: false))
        guard case .changes(_, let back, _, _, _) = decoded else { return }
        #expect(back.map(\.key) == ["ci-1", "ci-2", "ci-3", "ci-4"])
        #expect(back.map(\.state) == records.map(\.state))
        for index in [0, 1, 3] {
            guard case .singleWrite = back[index].body else {
                Issue.record("record \(index) did not come back as a single write")
                continue
            }
        }
        // The generic path reads runs the same way.
        #expect(try DaemonMessage.decode(json) == decoded)
    }

    @Test func malformedRunsAreRefusedWithTheirIndex() throws {
        let head =
            #"{"type":"push","id":3,"records":[{"c":"x","k":"y","ctx":[["r",1]],"d":[0,1,1,0],"f":{"_deleted":false}},"#
        let bad = [
            #"{"c":"x","f":["a","b"],"w":["r"],"rows":[["k",0,1,1,0,1]]}"#,  // a value short
            #"{"c":"x","f":["a"],"w":["r"],"rows":[["k",1,1,1,0,1]]}"#,  // writer index out of range
            #"{"c":"x","f":["a"],"w":["r"],"rows":[["k",0,0,1,0,1]]}"#,  // counter 0
            #"{"c":"x","f":["a"],"w":["r"],"rows":[["k",0,1,-1,0,1]]}"#,  // wall before 0
            #"{"c":"x","f":["a"],"w":["r"],"rows":[["k",0,1,1,70000,1]]}"#,  // logical too large
            #"{"c":"x","f":["b","a"],"w":["r"],"rows":[["k",0,1,1,0,1,2]]}"#,  // names out of order
            #"{"c":"x","f":["a","a"],"w":["r"],"rows":[["k",0,1,1,0,1,2]]}"#,  // a name twice
            #"{"c":"x","f":["_deleted"],"w":["r"],"rows":[["k",0,1,1,0,true]]}"#,  // existence named
            #"{"c":"x","f":["a"],"w":["has space"],"rows":[["k",0,1,1,0,1]]}"#,  // bad replica id
            #"{"c":"x","f":["a"],"w":["r"],"rows":[["k",0,1,1,0,{"b":1}]]}"#,  // object value
            #"{"c":"x","f":["a"],"w":["r"],"rows":[[7,0,1,1,0,1]]}"#,  // key not a string
            #"{"c":"x","f":["a"],"rows":[["k",0,1,1,0,1]]}"#,  // w missing
            #"{"c":"x","f":["a"],"w":["r"],"rows":"none"}"#,  // rows not a list
            #"{"c":"x","f":["a"],"w":["r"],"rows":[],"k":"y"}"#,  // a record member in a run
        ]
        for run in bad {
            let error = #expect(throws: ProtocolError.self, "\(run)") { try Self.decodeClient(head + run + "]}") }
            #expect(error?.code == .invalidValue, "\(run)")
            #expect(error?.message.contains("push.records[1]") == true, "\(run): \(error?.message ?? "")")
            #expect(error?.id == .integer(3))
        }
        // Members in another order read the same; a member twice is refused.
        let inOrder = #"{"type":"push","id":5,"records":[{"c":"x","f":["a"],"w":["r"],"rows":[["k",0,1,1,0,1]]}]}"#
        let reordered = #"{"type":"push","id":5,"records":[{"rows":[["k",0,1,1,0,1]],"w":["r"],"f":["a"],"c":"x"}]}"#
        #expect(try Self.decodeClient(inOrder) == Self.decodeClient(reordered))
        let twice =
            #"{"type":"push","id":6,"records":[{"c":"x","f":["a"],"w":["r"],"rows":[["k",0,1,1,0,1]],"rows":[["j",0,2,1,0,1]]}]}"#
        #expect(throws: ProtocolError.self) { try Self.decodeClient(twice) }
        // A run counts as its rows against the batch limit.
        let rows = (0..<5).map { #"["k\#($0)",0,1,1,0,1]"# }.joined(separator: ",")
        let line = #"{"type":"push","id":4,"records":[{"c":"x","f":["a"],"w":["r"],"rows":[\#(rows)]}]}"#
        let error = #expect(throws: ProtocolError.self) {
            try Array(line.utf8).withUnsafeBytes { buffer in
                Result { () throws(ProtocolError) in try ClientMessage.decode(buffer, maximumBatch: 4) }
            }.get()
        }
        #expect(error?.code == .tooManyRecords)
    }

    /// Grouping keeps every record once, in order within its group, and puts records of one
    /// collection and field list together so they travel as one run.
    @Test func groupingPutsEachFieldListInOneRun() throws {
        let replica = ReplicaID(unchecked: "kiosk-3")
        func station(_ index: Int, _ fields: [(String, FieldValue)]) -> KeyedRecord {
            var state = RecordState()
            state.put(
                fields, dot: Dot(replica: replica, counter: Int64(index + 1)),
                timestamp: HybridTimestamp(wallMillis: 5, logical: 0))
            return KeyedRecord(collection: "stations", key: "st-\(index)", state: state)
        }
        let records = (0..<12).map { index in
            index % 2 == 0
                ? station(index, [("name", .text("A")), ("free_chargers", .integer(3))])
                : station(index, [("meals_left", .integer(9)), ("name", .text("B"))])
        }
        let grouped = KeyedRecord.groupedInRuns(records)
        #expect(
            grouped.map(\.key) == (0..<12).filter { $0 % 2 == 0 }.map { "st-\($0)" }
                + (0..<12).filter { $0 % 2 == 1 }.map { "st-\($0)" })
        func runs(_ records: [KeyedRecord]) throws -> Int {
            let line = DaemonMessage.changes(id: nil, records: records, cursor: 1, more: false).line()
            guard case .array(let list)? = try JSONParser.parse(Array(line.dropLast()))["records"] else { return -1 }
            return list.count
        }
        #expect(try runs(records) == 12)
        #expect(try runs(grouped) == 2)
    }
}
