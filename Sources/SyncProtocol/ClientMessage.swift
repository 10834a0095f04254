import SyncCore

/// What a client sends: one JSON object per line.
public enum ClientMessage: Sendable, Hashable {
    /// First message of every connection: who is speaking and where its pull stopped.
    case hello(Hello)
    /// Record states the client holds and the daemon may not; `lineage` holds the client's
    /// lineage entries the daemon may not have, oldest first (see `Hello.lineage`); `pulled`
    /// where the client's pull stood when it read them (everything it holds of others came
    /// from before there).
    case push(id: RequestID, records: [KeyedRecord], lineage: [LineageEntry]? = nil, pulled: StreamCursor? = nil)
    /// Changes after `cursor` in the client's scope, at most `limit`.
    case pull(id: RequestID, cursor: Int64, limit: Int?)
    /// Stream every change after `cursor` as it lands.
    case subscribe(id: RequestID, cursor: Int64)
    case ping(id: RequestID)

    /// The `hello` message.
    public struct Hello: Sendable, Hashable {
        public let id: RequestID
        public let protocolVersion: Int
        public let replica: ReplicaID
        public let token: String
        /// Where the client's pull stopped last time (nil for a first sync).
        public let cursor: StreamCursor?
        /// The daemon's position when it last acknowledged a push from this client (nil when
        /// it never did): a daemon that no longer reaches it has lost pushed writes.
        public let pushed: StreamCursor?
        /// The newest lineage entry of each of this replica's recent pushes, newest first (nil
        /// from a client that keeps none): a daemon whose newest entry for the replica is not
        /// among them refuses with `replica_diverged`: another device pushed under the same id.
        public let lineage: [LineageEntry]?
        /// This replica's writes that the store holds and that have been in a push the
        /// daemon acknowledged without refusing them (nil: not told). A pushed write not among
        /// them may never have left the device.
        public let sent: CounterRanges?
        /// The renamings this store made (`replica_diverged`), newest first, at most 64 (nil:
        /// none): the daemon passes them on, so devices that took in the moved writes before
        /// the move move them too.
        public let renamings: [ReplicaRenaming]?

        public init(
            id: RequestID, protocolVersion: Int, replica: ReplicaID, token: String, cursor: StreamCursor?,
            pushed: StreamCursor? = nil, lineage: [LineageEntry]? = nil, sent: CounterRanges? = nil,
            renamings: [ReplicaRenaming]? = nil
        ) {
            self.id = id
            self.protocolVersion = protocolVersion
            self.replica = replica
            self.token = token
            self.cursor = cursor
            self.pushed = pushed
            self.lineage = lineage
            self.sent = sent
            self.renamings = renamings
        }
    }

    public var id: RequestID {
        switch self {
        case .hello(let hello): hello.id
        case .push(let id, _, _, _), .pull(let id, _, _), .subscribe(let id, _), .ping(let id): id
        }
    }

    /// The message as one line, newline included.
    public func line() -> [UInt8] {
        var writer = JSONWriter()
        // A batch of records is long: room for it up front spares the copies of growing.
        if case .push(_, let records, _, _) = self { writer = JSONWriter(capacity: 256 + 160 * records.count) }
        switch self {
        case .hello(let hello):
            var members: [JSONValue.Member] = [
                .init("type", .string("hello")), .init("id", hello.id.json),
                .init("protocol", .integer(Int64(hello.protocolVersion))),
                .init("replica", .string(hello.replica.rawValue)), .init("token", .string(hello.token)),
            ]
            if let cursor = hello.cursor { members.append(.init("cursor", cursor.json)) }
            if let pushed = hello.pushed { members.append(.init("pushed", pushed.json)) }
            if let lineage = hello.lineage { members.append(.init("lineage", LineageEntry.json(lineage))) }
            if let sent = hello.sent {
                members.append(
                    .init(
                        "sent",
                        .array(sent.ranges.map { .array([.integer($0.lowerBound), .integer($0.upperBound)]) })))
            }
            if let renamings = hello.renamings { members.append(.init("renamings", ReplicaRenaming.json(renamings))) }
            writer.write(.object(members))
        case .push(let id, let records, let lineage, let pulled):
            writer.raw("{\"type\":\"push\",\"id\":")
            writer.write(id.json)
            if let lineage {
                writer.raw(",\"lineage\":")
                writer.write(LineageEntry.json(lineage))
            }
            if let pulled {
                writer.raw(",\"pulled\":")
                writer.write(pulled.json)
            }
            writer.raw(",\"records\":")
            KeyedRecord.writeList(records, to: &writer)
            writer.raw(UInt8(ascii: "}"))
        case .pull(let id, let cursor, let limit):
            var members: [JSONValue.Member] = [
                .init("type", .string("pull")), .init("id", id.json), .init("cursor", .integer(cursor)),
            ]
            if let limit { members.append(.init("limit", .integer(Int64(limit)))) }
            writer.write(.object(members))
        case .subscribe(let id, let cursor):
            writer.write(.object(["type": .string("subscribe"), "id": id.json, "cursor": .integer(cursor)]))
        case .ping(let id):
            writer.write(.object(["type": .string("ping"), "id": id.json]))
        }
        writer.raw(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// Reads a client message from a line's bytes (newline excluded).
    public static func decode(_ line: UnsafeRawBufferPointer, maximumBatch: Int = ProtocolLimits.defaultMaximumBatch)
        throws(ProtocolError) -> ClientMessage
    {
        if let fast = try? JSONParser.parseMessage(line) {
            var fields = try MessageFields(fast.object)
            fields.rawRecords = fast.records
            return try decode(fields, maximumBatch: maximumBatch)
        }
        return try decode(try LineDecoding.parse(line), maximumBatch: maximumBatch)
    }

    public static func decode(_ json: JSONValue, maximumBatch: Int = ProtocolLimits.defaultMaximumBatch)
        throws(ProtocolError) -> ClientMessage
    {
        try decode(try MessageFields(json), maximumBatch: maximumBatch)
    }

    private static func decode(_ fields: MessageFields, maximumBatch: Int) throws(ProtocolError) -> ClientMessage {
        switch fields.type {
        case "hello":
            let replicaName = try fields.string("replica")
            guard let replica = try? ReplicaID(replicaName) else {
                throw fields.invalid("hello.replica must be 1-64 characters of A-Z a-z 0-9 _ . -")
            }
            return .hello(
                Hello(
                    id: try fields.requestID(), protocolVersion: Int(try fields.integer("protocol", in: 0...1_000_000)),
                    replica: replica, token: try fields.string("token"),
                    cursor: fields["cursor"] == nil ? nil : try fields.cursor("cursor"),
                    pushed: fields["pushed"] == nil ? nil : try fields.cursor("pushed"),
                    lineage: try fields.optionalLineage("lineage", maximum: ProtocolLimits.maximumLineage),
                    sent: try fields.optionalCounterRanges("sent", maximum: CounterRanges.maximumRanges),
                    renamings: try fields.optionalRenamings("renamings", maximum: ProtocolLimits.maximumOwnRenamings)))
        case "push":
            let lineage = try fields.optionalLineage("lineage", maximum: ProtocolLimits.maximumLineageEntries)
            return .push(
                id: try fields.requestID(), records: try fields.records("records", maximum: maximumBatch),
                lineage: lineage, pulled: fields["pulled"] == nil ? nil : try fields.cursor("pulled"))
        case "pull":
            let limit = try fields.optionalInteger("limit", in: 1...Int64(maximumBatch))
            return .pull(
                id: try fields.requestID(), cursor: try fields.integer("cursor", in: 0...ProtocolLimits.maximumSeq),
                limit: limit.map(Int.init))
        case "subscribe":
            return .subscribe(
                id: try fields.requestID(), cursor: try fields.integer("cursor", in: 0...ProtocolLimits.maximumSeq))
        case "ping":
            return .ping(id: try fields.requestID())
        default:
            throw ProtocolError(.unknownType, "unknown message type \(fields.type.debugDescription)", id: fields.id)
        }
    }
}

/// Turning a line's bytes into JSON, with the protocol's errors.
enum LineDecoding {
    static func parse(_ line: UnsafeRawBufferPointer) throws(ProtocolError) -> JSONValue {
        guard String(validating: line, as: UTF8.self) != nil else {
            throw ProtocolError(.invalidUTF8, "the line is not valid UTF-8")
        }
        do {
            return try JSONParser.parse(line)
        } catch {
            throw ProtocolError(.badJSON, "the line is not JSON: \(error.message) at byte \(error.offset)")
        }
    }
}
