import SyncCore

/// What the daemon sends: replies (echoing the request's id), live changes and errors.
public enum DaemonMessage: Sendable, Hashable {
    case welcome(Welcome)
    case pushed(PushResult)
    /// A batch of changes: the reply to a pull (with its id), or a live batch (id nil), with
    /// the daemon's renamings when they grew since the connection was last told (see
    /// `Welcome.renamings`): taken in before the records, which may hold moved writes.
    case changes(
        id: RequestID?, records: [KeyedRecord], cursor: Int64, more: Bool, renamings: [ReplicaRenaming] = [])
    case subscribed(id: RequestID, cursor: Int64)
    case pong(id: RequestID)
    case error(ProtocolError)

    /// The reply to `hello`.
    public struct Welcome: Sendable, Hashable {
        public let id: RequestID
        public let protocolVersion: Int
        /// The daemon's replica id.
        public let daemon: ReplicaID
        public let role: String
        public let subject: String
        /// The daemon no longer holds what it acknowledged of the client's pushes (it was
        /// restored from a backup): push everything again.
        public let repush: Bool
        /// Where the client's pull resumes: its own cursor, or an earlier one if the daemon no
        /// longer has that history (restored from a backup).
        public let cursor: StreamCursor
        public let maximumLine: Int
        public let maximumBatch: Int
        /// Renamings copies of stores made, newest first, at most 256 (empty: none known).
        public let renamings: [ReplicaRenaming]
        /// The daemon's wall clock when it answered, in ms since the Unix epoch (nil: not
        /// told): a client whose clock is off keeps the difference and stamps by the daemon's.
        public let time: Int64?
        /// How far ahead of the daemon's clock a pushed write's timestamp may be, in ms (nil:
        /// not told); a record with a later one is refused `clock_ahead`.
        public let maximumClockAhead: Int64?
        /// How long, in ms, the daemon keeps a greeted connection that sends nothing (a live
        /// subscriber pings well within it); nil when the daemon does not say.
        public let idleTimeoutMillis: Int64?

        public init(
            id: RequestID, protocolVersion: Int, daemon: ReplicaID, role: String, subject: String, repush: Bool,
            cursor: StreamCursor, maximumLine: Int, maximumBatch: Int, renamings: [ReplicaRenaming] = [],
            time: Int64? = nil, maximumClockAhead: Int64? = nil, idleTimeoutMillis: Int64? = nil
        ) {
            self.id = id
            self.protocolVersion = protocolVersion
            self.daemon = daemon
            self.role = role
            self.subject = subject
            self.repush = repush
            self.cursor = cursor
            self.maximumLine = maximumLine
            self.maximumBatch = maximumBatch
            self.renamings = renamings
            self.time = time
            self.maximumClockAhead = maximumClockAhead
            self.idleTimeoutMillis = idleTimeoutMillis
        }
    }

    /// The reply to `push`.
    public struct PushResult: Sendable, Hashable {
        public let id: RequestID
        /// Records whose state grew at the daemon.
        public let accepted: Int
        /// Records the daemon already held in full.
        public let unchanged: Int
        public let refused: [Refusal]
        /// The daemon's position once the push landed; the client sends it back in its next
        /// hello (`pushed`) so a daemon restored to an earlier point notices.
        public let cursor: StreamCursor

        public init(id: RequestID, accepted: Int, unchanged: Int, refused: [Refusal], cursor: StreamCursor) {
            self.id = id
            self.accepted = accepted
            self.unchanged = unchanged
            self.refused = refused
            self.cursor = cursor
        }
    }

    /// One record of a push the daemon would not take, and why.
    public struct Refusal: Sendable, Hashable {
        /// The record's position in the push.
        public let index: Int
        public let collection: String
        public let key: String
        public let code: String
        public let message: String

        public init(index: Int, collection: String, key: String, code: String, message: String) {
            self.index = index
            self.collection = collection
            self.key = key
            self.code = code
            self.message = message
        }
    }

    /// The id of the request this answers (nil for live changes and errors without one).
    public var replyID: RequestID? {
        switch self {
        case .welcome(let welcome): welcome.id
        case .pushed(let result): result.id
        case .changes(let id, _, _, _, _): id
        case .subscribed(let id, _), .pong(let id): id
        case .error(let error): error.id
        }
    }

    /// The message as one line, newline included.
    public func line() -> [UInt8] {
        var writer = JSONWriter()
        // A batch of records is long: room for it up front spares the copies of growing.
        if case .changes(_, let records, _, _, _) = self { writer = JSONWriter(capacity: 64 + 160 * records.count) }
        switch self {
        case .welcome(let welcome):
            var members: [JSONValue.Member] = [
                .init("type", .string("welcome")), .init("id", welcome.id.json),
                .init("protocol", .integer(Int64(welcome.protocolVersion))),
                .init("daemon", .string(welcome.daemon.rawValue)), .init("role", .string(welcome.role)),
                .init("subject", .string(welcome.subject)), .init("repush", .bool(welcome.repush)),
                .init("cursor", welcome.cursor.json), .init("max_line", .integer(Int64(welcome.maximumLine))),
                .init("max_batch", .integer(Int64(welcome.maximumBatch))),
            ]
            if !welcome.renamings.isEmpty {
                members.append(.init("renamings", ReplicaRenaming.json(welcome.renamings)))
            }
            if let time = welcome.time { members.append(.init("time", .integer(time))) }
            if let ahead = welcome.maximumClockAhead { members.append(.init("max_clock_ahead", .integer(ahead))) }
            if let idle = welcome.idleTimeoutMillis { members.append(.init("idle_timeout_ms", .integer(idle))) }
            writer.write(.object(members))
        case .pushed(let result):
            let refused = result.refused.map { refusal -> JSONValue in
                .object([
                    "index": .integer(Int64(refusal.index)), "c": .string(refusal.collection),
                    "k": .string(refusal.key),
                    "code": .string(refusal.code), "message": .string(refusal.message),
                ])
            }
            writer.write(
                .object([
                    "type": .string("pushed"), "id": result.id.json, "accepted": .integer(Int64(result.accepted)),
                    "unchanged": .integer(Int64(result.unchanged)), "refused": .array(refused),
                    "cursor": result.cursor.json,
                ]))
        case .changes(let id, let records, let cursor, let more, let renamings):
            writer.raw("{\"type\":\"changes\"")
            if let id {
                writer.raw(",\"id\":")
                writer.write(id.json)
            }
            if !renamings.isEmpty {
                writer.raw(",\"renamings\":")
                writer.write(ReplicaRenaming.json(renamings))
            }
            writer.raw(",\"records\":")
            KeyedRecord.writeList(records, to: &writer)
            writer.raw(",\"cursor\":")
            writer.write(cursor)
            writer.raw(more ? ",\"more\":true}" : ",\"more\":false}")
        case .subscribed(let id, let cursor):
            writer.write(.object(["type": .string("subscribed"), "id": id.json, "cursor": .integer(cursor)]))
        case .pong(let id):
            writer.write(.object(["type": .string("pong"), "id": id.json]))
        case .error(let error):
            var members: [JSONValue.Member] = [.init("type", .string("error"))]
            if let id = error.id { members.append(.init("id", id.json)) }
            members.append(.init("code", .string(error.code.rawValue)))
            members.append(.init("message", .string(error.message)))
            if let lineage = error.lineage { members.append(.init("lineage", LineageEntry.json(lineage))) }
            writer.write(.object(members))
        }
        writer.raw(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// Reads a daemon message from a line's bytes (newline excluded).
    public static func decode(_ line: UnsafeRawBufferPointer) throws(ProtocolError) -> DaemonMessage {
        if let fast = try? JSONParser.parseMessage(line) {
            var fields = try MessageFields(fast.object)
            fields.rawRecords = fast.records
            return try decode(fields)
        }
        return try decode(try LineDecoding.parse(line))
    }

    public static func decode(_ json: JSONValue) throws(ProtocolError) -> DaemonMessage {
        try decode(try MessageFields(json))
    }

    private static func decode(_ fields: MessageFields) throws(ProtocolError) -> DaemonMessage {
        switch fields.type {
        case "welcome":
            let daemonName = try fields.string("daemon")
            guard let daemon = try? ReplicaID(daemonName) else {
                throw fields.invalid("welcome.daemon is not a replica id")
            }
            return .welcome(
                Welcome(
                    id: try fields.requestID(), protocolVersion: Int(try fields.integer("protocol", in: 0...1_000_000)),
                    daemon: daemon, role: try fields.string("role"), subject: try fields.string("subject"),
                    repush: try fields.bool("repush"), cursor: try fields.cursor("cursor"),
                    maximumLine: Int(try fields.integer("max_line", in: 1...Int64(Int32.max))),
                    maximumBatch: Int(try fields.integer("max_batch", in: 1...1_000_000)),
                    renamings: try fields.optionalRenamings("renamings", maximum: ProtocolLimits.maximumRenamings)
                        ?? [],
                    time: try fields.optionalInteger("time", in: 0...HybridTimestamp.maximumWallMillis),
                    maximumClockAhead: try fields.optionalInteger(
                        "max_clock_ahead", in: 0...HybridTimestamp.maximumWallMillis),
                    idleTimeoutMillis: try fields.optionalInteger("idle_timeout_ms", in: 1...Int64(Int32.max))))
        case "pushed":
            var refused: [Refusal] = []
            for element in try fields.array("refused") {
                let item = MessageFields(members: element.objectMembers, type: "pushed.refused", id: fields.id)
                refused.append(
                    Refusal(
                        index: Int(try item.integer("index", in: 0...Int64(Int32.max))),
                        collection: try item.string("c"),
                        key: try item.string("k"), code: try item.string("code"), message: try item.string("message")))
            }
            return .pushed(
                PushResult(
                    id: try fields.requestID(), accepted: Int(try fields.integer("accepted", in: 0...Int64(Int32.max))),
                    unchanged: Int(try fields.integer("unchanged", in: 0...Int64(Int32.max))), refused: refused,
                    cursor: try fields.cursor("cursor")))
        case "changes":
            return .changes(
                id: fields.id, records: try fields.records("records", maximum: Int.max),
                cursor: try fields.integer("cursor", in: 0...ProtocolLimits.maximumSeq), more: try fields.bool("more"),
                renamings: try fields.optionalRenamings("renamings", maximum: ProtocolLimits.maximumRenamings) ?? [])
        case "subscribed":
            return .subscribed(
                id: try fields.requestID(), cursor: try fields.integer("cursor", in: 0...ProtocolLimits.maximumSeq))
        case "pong":
            return .pong(id: try fields.requestID())
        case "error":
            return .error(
                ProtocolError(
                    ProtocolError.Code(try fields.string("code")), try fields.string("message"), id: fields.id,
                    lineage: try fields.optionalLineage("lineage", maximum: ProtocolLimits.maximumLineageEntries)))
        default:
            throw ProtocolError(.unknownType, "unknown message type \(fields.type.debugDescription)", id: fields.id)
        }
    }
}
