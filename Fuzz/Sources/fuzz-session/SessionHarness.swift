import Foundation
import GRDB
import SyncCore
import SyncProtocol
import SyncSession
@_spi(Defects) import SyncStore
import SyncTesting
import YongaiDomain

/// One fuzz input's world: a daemon store, up to three connections (daemon sessions) and
/// the devices behind them, driven by a grammar whose choices the input's bytes make.
///
/// Every reply is checked against the protocol's JSON Schemas as it comes; `finish()` checks
/// the store and that every write the daemon acknowledged is still there or written over.
final class SessionHarness {
    /// A device: the replica id it syncs as, its token, and what it last saw of each record.
    struct Device {
        let replica: ReplicaID
        let token: String
        var counter: Int64 = 0
        var view: [String: RecordState] = [:]
        var lastLine: [UInt8]?
    }

    /// One open connection: the daemon's session and the device speaking on it.
    struct Connection {
        let session: DaemonSession
        let device: Int
        var greeted = false
        var nextID: Int64 = 1
        var pending: [KeyedRecord] = []
        var readAhead: ReadAhead.Batch?
    }

    /// A value the daemon acknowledged: kept unless a write that saw it replaced it.
    struct AcknowledgedWrite {
        let collection: String
        let key: String
        let field: String
        let value: RegisterValue
    }

    static let base: Int64 = 1_764_000_000_000
    static let maximumWall = HybridTimestamp.maximumWallMillis
    static let maximumLogical = HybridTimestamp.maximumLogical

    let clock = ManualClock(millis: base)
    let store: SyncStore
    let epoch: String
    let options: FuzzOptions
    var devices: [Device]
    var connections: [Connection?] = [nil, nil, nil]
    var acknowledged: [AcknowledgedWrite] = []
    /// Every state the daemon acknowledged, by "collection/key": the writes that may replace others.
    var acknowledgedStates: [String: [RecordState]] = [:]
    var lastPush: [UInt8]?

    init(options: FuzzOptions) throws {
        self.options = options
        let template = try Self.template.get()
        var storeOptions = StoreOptions(registersDots: true)
        storeOptions.defects = options.plantedDefects
        store = try template.store.copy(clock: clock, options: storeOptions)
        epoch = template.epoch
        devices = [
            ("adm-a", "admin:ops"), ("adm-b", "admin:ops"), ("phone-r7", "rider:r-7"), ("kiosk-1", "station:st-1"),
            ("staff-1", "staff:hot"), ("phone-r9", "rider:r-9"),
        ].map { Device(replica: ReplicaID(unchecked: $0.0), token: $0.1) }
    }

    /// A migrated empty daemon store, made once: each input starts from a copy of it.
    private static let template = Result { () throws -> (store: SyncStore, epoch: String) in
        let store = try SyncStore(
            .inMemory, schema: YongaiCollections.schema, clock: ManualClock(millis: base),
            options: .init(registersDots: true, newReplicaID: try ReplicaID("daemon-0")))
        return (store, try store.startEpoch())
    }

    func makeSession() -> DaemonSession {
        DaemonSession(
            store: store, policy: YongaiAccessPolicy(), authenticator: PlainTokens(),
            configuration: .init(epoch: epoch, maximumLine: 64 * 1024, maximumBatch: 8))
    }

    // MARK: - The grammar

    /// Runs one step chosen by `input`.
    func step(_ input: inout FuzzInput) throws {
        let slot = input.pick(connections.count)
        // Fuzz/make-session-seeds.py writes seeds with these numbers: keep the two in step.
        switch input.pick(20) {
        case 0, 1, 19: hello(slot, &input)
        case 2...7: write(slot, &input)
        case 8, 9, 10: try push(slot, &input)
        case 11, 12: pull(slot, &input)
        case 13: subscribe(slot, &input)
        case 14: send(slot, ClientMessage.ping(id: nextID(slot)).line().dropLast())
        case 15: raw(slot, &input)
        case 16: replay(slot)
        case 17: moveClock(&input)
        default: connections[slot] = nil
        }
    }

    private func nextID(_ slot: Int) -> RequestID {
        guard var connection = connections[slot] else { return .integer(0) }
        defer {
            connection.nextID += 1
            connections[slot] = connection
        }
        return .integer(connection.nextID)
    }

    private func cursorChoice(_ input: inout FuzzInput) -> Int64 {
        let latest = (try? store.latestSeq()) ?? 0
        return input.pick([0, 1, latest, latest + 1, max(0, latest - 1), Int64.max, Int64(input.byte())])
    }

    /// Opens a connection for a device (sometimes with another's token) and says hello.
    private func hello(_ slot: Int, _ input: inout FuzzInput) {
        let device = input.pick(devices.count)
        var token = devices[device].token
        if input.chance(16) { token = input.pick(["admin:ops", "rider:r-9", "nope", "station:st-2", "guest:x"]) }
        var cursor: StreamCursor?
        var pushed: StreamCursor?
        if input.chance(2) {
            cursor = StreamCursor(epoch: input.chance(4) ? "other" : epoch, seq: cursorChoice(&input))
        }
        if input.chance(4) { pushed = StreamCursor(epoch: epoch, seq: cursorChoice(&input)) }
        connections[slot] = Connection(session: makeSession(), device: device)
        let hello = ClientMessage.Hello(
            id: nextID(slot), protocolVersion: input.chance(32) ? 1 : ProtocolLimits.version,
            replica: devices[device].replica, token: token, cursor: cursor, pushed: pushed)
        for reply in send(slot, ClientMessage.hello(hello).line().dropLast()) {
            if case .welcome = reply { connections[slot]?.greeted = true }
        }
    }

    private static let keys = [
        "stations": ["st-1", "st-2", "st-9"], "checkins": ["ci-1", "ci-2"], "appeals": ["ap-1", "ap-2"],
    ]

    /// The device on `slot` writes one record as it sees it (a new one, an edit of some
    /// fields, or a delete) and queues it for its next push.
    private func write(_ slot: Int, _ input: inout FuzzInput) {
        guard var connection = connections[slot] else { return }
        var device = devices[connection.device]
        let collection = input.pick(["stations", "checkins", "appeals"])
        let key = input.pick(Self.keys[collection]!)
        let path = "\(collection)/\(key)"
        let seen = device.view[path]
        var state = seen ?? RecordState()
        // The dot: the next counter, or (rarely) one already used, or one far ahead.
        switch input.pick(16) {
        case 0 where device.counter > 0: break
        case 1: device.counter = max(device.counter, input.pick([1 << 31, 1 << 53, Int64.max - 1]))
        default: device.counter = min(device.counter, Int64.max - 1) + 1
        }
        let dot = Dot(replica: device.replica, counter: device.counter)
        let timestamp = timestampChoice(&input, counter: device.counter)
        if input.chance(6), state.exists {
            state.delete(dot: dot, timestamp: timestamp)
        } else {
            let whole = !state.exists || state.isDeleted || input.chance(4)
            state.put(Self.values(collection, key: key, whole: whole, &input), dot: dot, timestamp: timestamp)
        }
        if input.chance(24) {
            // An extreme context: the state claims to have seen far more of some replica.
            let other = devices[input.pick(devices.count)].replica
            let far = VersionVector([other: input.pick([Int64.max, 1 << 53, min(device.counter, Int64.max - 1) + 1])])
            if let widened = try? RecordState(validatingFields: state.fields, context: state.context.merging(far)) {
                state = widened
            }
        }
        device.view[path] = state
        devices[connection.device] = device
        let record = KeyedRecord(collection: collection, key: key, state: state)
        if options.avoidRepeatedKeys {
            connection.pending.removeAll { $0.collection == collection && $0.key == key }
        }
        connection.pending.append(record)
        if !options.avoidRepeatedKeys, let seen, seen.exists, input.chance(8) {
            // The state it wrote over, after it in the same batch (a batch's order carries nothing).
            connection.pending.append(KeyedRecord(collection: collection, key: key, state: seen))
        }
        connections[slot] = connection
    }

    private func timestampChoice(_ input: inout FuzzInput, counter: Int64) -> HybridTimestamp {
        let normal = Self.base + 1000 * min(counter, 1_000_000)
        let choice = input.pick(12)
        var (wall, logical): (Int64, Int64)
        switch choice {
        case 0: (wall, logical) = (0, 0)
        case 1: (wall, logical) = (Self.maximumWall, input.pick([0, Self.maximumLogical - 1, Self.maximumLogical]))
        case 2: (wall, logical) = (normal, input.pick([Self.maximumLogical - 1, Self.maximumLogical]))
        case 3: (wall, logical) = (Self.base + Int64(input.byte()), Int64(input.byte()))
        case 4: (wall, logical) = (Self.base - 86_400_000, 0)
        default: (wall, logical) = (normal, 0)
        }
        if options.avoidMaximumTimestamp, wall == Self.maximumWall { wall -= 1 }
        return HybridTimestamp(wallMillis: wall, logical: logical)
    }

    /// Field values for `collection`: every required field when `whole`, else one or two.
    private static func values(_ collection: String, key: String, whole: Bool, _ input: inout FuzzInput)
        -> [(name: String, value: FieldValue)]
    {
        var all: [(name: String, value: FieldValue)]
        switch collection {
        case "stations":
            all = [
                ("kind", .text(input.pick(["charging", "rest_stop", "merchant", "spaceship"]))),
                ("name", .text(input.pick(["Haishu Rest", "镇海", "", "N"]))),
                ("lat", .real(input.pick([29.87, -90, 90, 0, 91]))), ("lon", .real(input.pick([121.55, -180, 180]))),
                ("status", .text(input.pick(["open", "closed", "full", "gone"]))),
                ("free_chargers", input.pick([.integer(6), .integer(0), .null, .integer(10_001)])),
                ("district", input.pick([.text("Haishu"), .null])),
            ]
        case "checkins":
            all = [
                ("rider_id", .text(input.pick(["r-7", "r-9"]))), ("station_id", .text(input.pick(["st-1", "st-2"]))),
                ("purpose", .text(input.pick(["charge", "rest", "meal"]))),
                ("at", .integer(input.pick([base, 0, 253_402_300_799_999]))),
                ("device", .text(input.pick(["phone", "kiosk-1"]))),
            ]
        default:
            all = [
                ("rider_id", .text(input.pick(["r-7", "r-9"]))), ("category", .text("wages")),
                ("text", .text(input.pick(["unpaid since May", "x"]))),
                ("status", .text(input.pick(["filed", "accepted", "resolved", "lost"]))),
                ("assignee", input.pick([.text("hot-1"), .null])), ("satisfaction", .integer(input.pick([1, 5, 0]))),
            ]
        }
        if whole { return Array(all.prefix(collection == "appeals" ? 3 : 5)) }
        let first = all[input.pick(all.count)]
        if input.chance(3) { return [first, all[input.pick(all.count)]] }
        return [first]
    }

    /// Sends the connection's queued records as one push.
    private func push(_ slot: Int, _ input: inout FuzzInput) throws {
        guard var connection = connections[slot], !connection.pending.isEmpty else { return }
        let records = connection.pending
        connection.pending = []
        connections[slot] = connection
        let pulled = input.chance(4) ? StreamCursor(epoch: epoch, seq: cursorChoice(&input)) : nil
        let line = Array(ClientMessage.push(id: nextID(slot), records: records, pulled: pulled).line().dropLast())
        lastPush = line
        for reply in send(slot, line[...]) {
            guard case .pushed(let result) = reply else { continue }
            let refused = Set(result.refused.map(\.index))
            precondition(
                result.accepted + result.unchanged + result.refused.count == records.count,
                "pushed counts \(result.accepted)+\(result.unchanged)+\(result.refused.count) for \(records.count) records"
            )
            for (index, record) in records.enumerated() where !refused.contains(index) {
                acknowledgedStates["\(record.collection)/\(record.key)", default: []].append(record.state)
                for field in record.state.fields {
                    for value in field.register.values {
                        acknowledged.append(
                            AcknowledgedWrite(
                                collection: record.collection, key: record.key, field: field.name, value: value))
                    }
                }
            }
            try checkAcknowledged()
        }
    }

    /// Pulls (from an edge cursor, with an edge limit) and takes the records into the device's view.
    private func pull(_ slot: Int, _ input: inout FuzzInput) {
        guard let connection = connections[slot] else { return }
        let limit: Int? = input.pick([nil, 1, 2, 8])
        let message = ClientMessage.pull(id: nextID(slot), cursor: cursorChoice(&input), limit: limit)
        for reply in send(slot, message.line().dropLast()) {
            guard case .changes(_, let records, _, _, _) = reply else { continue }
            for record in records {
                let path = "\(record.collection)/\(record.key)"
                let seen = devices[connection.device].view[path] ?? RecordState()
                devices[connection.device].view[path] = seen.merged(with: record.state)
            }
        }
    }

    private func subscribe(_ slot: Int, _ input: inout FuzzInput) {
        send(slot, ClientMessage.subscribe(id: nextID(slot), cursor: cursorChoice(&input)).line().dropLast())
    }

    /// A line from the input's bytes, or the last line sent with some bytes changed.
    private func raw(_ slot: Int, _ input: inout FuzzInput) {
        var line: [UInt8]
        if let last = lastPush ?? connections[slot].flatMap({ devices[$0.device].lastLine }), !last.isEmpty,
            input.chance(2)
        {
            line = last
            for _ in 0...input.pick(4) {
                let position = (Int(input.byte()) << 8 | Int(input.byte())) % line.count
                line[position] = input.byte()
            }
        } else {
            line = input.take(input.pick(256))
        }
        send(slot, line[...])
    }

    /// Sends the last push again, on another connection (another device relaying it).
    private func replay(_ slot: Int) {
        guard let line = lastPush else { return }
        send(slot, line[...])
    }

    private func moveClock(_ input: inout FuzzInput) {
        switch input.pick(4) {
        case 0: clock.set(Self.base)
        case 1:
            let far = input.pick([0, Self.maximumWall, Self.base - 86_400_000])
            clock.set(options.avoidMaximumTimestamp && far == Self.maximumWall ? far - 1 : far)
        default:
            let step = Int64(input.byte())
            if !options.avoidMaximumTimestamp || clock.nowMillis() < Self.maximumWall - step { clock.advance(by: step) }
        }
    }

    // MARK: - Sending and checking replies

    /// Sends one line (no newline) on `slot` and checks every reply; returns the replies.
    @discardableResult
    func send(_ slot: Int, _ line: ArraySlice<UInt8>) -> [DaemonMessage] {
        guard var connection = connections[slot] else { return [] }
        devices[connection.device].lastLine = Array(line)
        let readAhead = connection.readAhead
        let output = line.withUnsafeBytes { connection.session.handle(line: $0, readAhead: readAhead) }
        connection.readAhead = output.readAhead?.read()
        if options.trace {
            FileHandle.standardError.write(Data("\(slot) > ".utf8) + Data(line) + Data("\n".utf8))
            for reply in output.lines { FileHandle.standardError.write(Data("\(slot) < ".utf8) + Data(reply)) }
        }
        connections[slot] = output.close ? nil : connection
        return output.lines.map(check)
    }

    /// Checks one reply line against the schemas and the client's decoder.
    private func check(_ line: [UInt8]) -> DaemonMessage {
        precondition(line.last == UInt8(ascii: "\n"), "a reply line ends with a newline")
        let body = line.dropLast()
        precondition(body.count <= 64 * 1024, "a reply of \(body.count) bytes is over max_line")
        let text = String(decoding: body, as: UTF8.self)
        let json: JSONValue
        do {
            json = try JSONParser.parse(Array(body))
        } catch {
            preconditionFailure("a reply is not JSON (\(error.message)): \(text)")
        }
        let errors = SchemaCheck.errors(json)
        precondition(errors.isEmpty, "a reply breaks the schema: \(errors) in \(text)")
        let decoded = body.withUnsafeBytes { buffer in
            Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }
        }
        switch decoded {
        case .success(let message): return message
        case .failure(let error): preconditionFailure("a client cannot read a reply (\(error.message)): \(text)")
        }
    }

    /// Every value the daemon acknowledged is held, or an acknowledged state saw it and does
    /// not hold it (wrote over it). Checked after each push: a value lost there cannot be
    /// excused by a later push of a device that pulled the loss.
    func checkAcknowledged() throws {
        for write in acknowledged {
            let path = "\(write.collection)/\(write.key)"
            guard let held = try store.record(write.collection, key: write.key) else {
                preconditionFailure("acknowledged \(path) is gone")
            }
            if let same = held.register(of: write.field)?.values.first(where: { $0.dot == write.value.dot }) {
                precondition(
                    same == write.value,
                    "\(path).\(write.field): acknowledged \(write.value), the store holds \(same) for the same dot")
            } else {
                // Gone: then an acknowledged state saw it and does not hold it (wrote over it).
                let replaced = acknowledgedStates[path, default: []].contains { state in
                    state.context.covers(write.value.dot)
                        && state.register(of: write.field)?.values.contains { $0.dot == write.value.dot } != true
                }
                precondition(
                    replaced && held.context.covers(write.value.dot),
                    "\(path).\(write.field): acknowledged \(write.value) is lost, no acknowledged write replaced it (held: \(held))"
                )
            }
        }
    }

    // MARK: - After the sequence

    /// Checks the store's integrity, an admin's full pull, and every acknowledged write.
    func finish() throws {
        let integrity = try store.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        precondition(integrity == ["ok"], "integrity_check: \(integrity)")
        // An admin pulls everything from 0: every batch valid, and it holds what the store holds.
        connections[0] = Connection(session: makeSession(), device: 0)
        let audit = ClientMessage.Hello(
            id: .integer(1), protocolVersion: ProtocolLimits.version, replica: ReplicaID(unchecked: "audit-0"),
            token: "admin:ops", cursor: nil)
        let welcome = send(0, ClientMessage.hello(audit).line().dropLast())
        guard case .welcome = welcome.first else { preconditionFailure("the audit hello failed: \(welcome)") }
        var pulled: [String: RecordState] = [:]
        var cursor: Int64 = 0
        for round in 0... {
            precondition(round < 10_000, "an admin's pull from 0 does not end")
            let replies = send(0, ClientMessage.pull(id: .integer(2), cursor: cursor, limit: nil).line().dropLast())
            guard case .changes(_, let records, let next, let more, _) = replies.first else {
                preconditionFailure("an admin's pull failed: \(replies)")
            }
            for record in records {
                let path = "\(record.collection)/\(record.key)"
                pulled[path] = (pulled[path] ?? RecordState()).merged(with: record.state)
            }
            precondition(next >= cursor, "a pull's cursor went back from \(cursor) to \(next)")
            if !more { break }
            precondition(next > cursor, "a pull with more to come did not move its cursor")
            cursor = next
        }
        for (path, state) in pulled {
            let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
            let held = try store.record(parts[0], key: parts[1])
            precondition(
                held == state, "an admin pulls \(path) as \(state), the store holds \(String(describing: held))")
        }
        try checkAcknowledged()
        for write in acknowledged {
            let path = "\(write.collection)/\(write.key)"
            precondition(pulled[path] != nil, "an admin's pull misses acknowledged \(path)")
        }
    }
}
