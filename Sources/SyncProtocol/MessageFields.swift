import SyncCore

/// Typed access to a message's members, with the protocol's errors for absent or mistyped ones.
struct MessageFields {
    let members: [JSONValue.Member]
    let type: String
    let id: RequestID?
    /// Records read by the fast path, standing for the `records` member.
    var rawRecords: [RawRecordItem]?

    /// Reads `type` and `id` of a message object.
    init(_ json: JSONValue) throws(ProtocolError) {
        guard case .object(let members) = json else {
            throw ProtocolError(.notObject, "a message must be a JSON object, not \(json.typeName)")
        }
        self.members = members
        switch json["id"] {
        case .integer(let number): id = .integer(number)
        case .string(let text): id = .string(text)
        case nil: id = nil
        case let other?: throw ProtocolError(.wrongType, "id must be an integer or a string, not \(other.typeName)")
        }
        guard let typeValue = json["type"] else { throw ProtocolError(.missingField, "a message needs a type", id: id) }
        guard case .string(let type) = typeValue else {
            throw ProtocolError(.wrongType, "type must be a string, not \(typeValue.typeName)", id: id)
        }
        self.type = type
    }

    subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    func requestID() throws(ProtocolError) -> RequestID {
        guard let id else { throw missing("id") }
        return id
    }

    func missing(_ key: String) -> ProtocolError {
        ProtocolError(.missingField, "\(type) needs \(key)", id: id)
    }

    func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> ProtocolError {
        ProtocolError(.wrongType, "\(type).\(key) must be \(expected), not \(value.typeName)", id: id)
    }

    func invalid(_ message: String) -> ProtocolError {
        ProtocolError(.invalidValue, message, id: id)
    }

    func string(_ key: String) throws(ProtocolError) -> String {
        guard let value = self[key] else { throw missing(key) }
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        return text
    }

    func optionalString(_ key: String) throws(ProtocolError) -> String? {
        guard let value = self[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        return text
    }

    func integer(_ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(ProtocolError) -> Int64 {
        guard let value = self[key] else { throw missing(key) }
        return try integer(key, value, in: range)
    }

    func optionalInteger(_ key: String, in range: ClosedRange<Int64>) throws(ProtocolError) -> Int64? {
        guard let value = self[key], value != .null else { return nil }
        return try integer(key, value, in: range)
    }

    private func integer(_ key: String, _ value: JSONValue, in range: ClosedRange<Int64>) throws(ProtocolError) -> Int64
    {
        guard case .integer(let number) = value else { throw wrongType(key, "an integer", value) }
        guard range.contains(number) else {
            throw invalid("\(type).\(key) must be between \(range.lowerBound) and \(range.upperBound) (got \(number))")
        }
        return number
    }

    func bool(_ key: String) throws(ProtocolError) -> Bool {
        guard let value = self[key] else { throw missing(key) }
        guard case .bool(let flag) = value else { throw wrongType(key, "a boolean", value) }
        return flag
    }

    func array(_ key: String) throws(ProtocolError) -> [JSONValue] {
        guard let value = self[key] else { throw missing(key) }
        guard case .array(let elements) = value else { throw wrongType(key, "an array", value) }
        return elements
    }

    /// An optional array of objects, at most `maximum`, each read as fields of its own.
    func optionalObjects(_ key: String, maximum: Int) throws(ProtocolError) -> [MessageFields]? {
        guard let value = self[key], value != .null else { return nil }
        guard case .array(let elements) = value else { throw wrongType(key, "an array", value) }
        guard elements.count <= maximum else {
            throw invalid("\(type).\(key) holds \(elements.count) entries; the most is \(maximum)")
        }
        var objects: [MessageFields] = []
        for element in elements {
            guard case .object = element else { throw wrongType(key, "an array of objects", element) }
            objects.append(MessageFields(members: element.objectMembers, type: "\(type).\(key)", id: id))
        }
        return objects
    }

    /// An optional array of lineage entries (`{"token","counter"}`), at most `maximum`.
    func optionalLineage(_ key: String, maximum: Int) throws(ProtocolError) -> [LineageEntry]? {
        guard let objects = try optionalObjects(key, maximum: maximum) else { return nil }
        var entries: [LineageEntry] = []
        for entry in objects {
            let token = try entry.string("token")
            guard ProtocolLimits.isLineageToken(token) else {
                throw invalid("\(type).\(key) holds a token that is not 1-64 characters of A-Z a-z 0-9 _ . -")
            }
            entries.append(
                LineageEntry(token: token, counter: try entry.integer("counter", in: 1...Dot.maximumCounter)))
        }
        return entries
    }

    /// An optional array of counter ranges (`[low, high]`, 1 <= low <= high), at most `maximum`.
    func optionalCounterRanges(_ key: String, maximum: Int) throws(ProtocolError) -> CounterRanges? {
        guard let value = self[key], value != .null else { return nil }
        guard case .array(let elements) = value else { throw wrongType(key, "an array", value) }
        guard elements.count <= maximum else {
            throw invalid("\(type).\(key) holds \(elements.count) ranges; the most is \(maximum)")
        }
        var ranges: [ClosedRange<Int64>] = []
        for element in elements {
            guard case .array(let bounds) = element, bounds.count == 2, case .integer(let low) = bounds[0],
                case .integer(let high) = bounds[1], low >= 1, low <= high, high <= Dot.maximumCounter
            else {
                throw invalid(
                    "\(type).\(key) holds a range that is not [low, high] with 1 <= low <= high <= \(Dot.maximumCounter)"
                )
            }
            ranges.append(low...high)
        }
        return CounterRanges(ranges)
    }

    /// The records of a `records` list, runs spread out in order; at most `maximum` of them.
    func records(_ key: String, maximum: Int) throws(ProtocolError) -> [KeyedRecord] {
        var items: [RawRecordItem] = []
        if let rawRecords {
            items = rawRecords
        } else {
            let elements = try array(key)
            // Each element holds at least one record.
            guard elements.count <= maximum else { throw tooMany(elements.count, maximum) }
            for (index, element) in elements.enumerated() {
                do {
                    items.append(try RawRecordItem(json: element))
                } catch {
                    throw invalid("\(type).\(key)[\(index)]: \(error.message)")
                }
            }
        }
        let count = items.reduce(0) { $0 + $1.recordCount }
        guard count <= maximum else { throw tooMany(count, maximum) }
        var records: [KeyedRecord] = []
        records.reserveCapacity(count)
        for (index, item) in items.enumerated() {
            do {
                switch item {
                case .record(let raw): records.append(try KeyedRecord(raw: raw))
                case .run(let run): try run.appendRecords(to: &records)
                }
            } catch {
                throw invalid("\(type).\(key)[\(index)]: \(error.message)")
            }
        }
        try checkEachRecordOnce(records, key)
        return records
    }

    /// Refuses a list naming one record twice: a batch holds each record at most once.
    private func checkEachRecordOnce(_ records: [KeyedRecord], _ key: String) throws(ProtocolError) {
        guard records.count > 1 else { return }
        var seen = Set<RecordKey>(minimumCapacity: records.count)
        for record in records where !seen.insert(RecordKey(record)).inserted {
            throw invalid(
                "\(type).\(key) holds \(record.collection) \(record.key.debugDescription) twice; a batch holds each record once"
            )
        }
    }

    private func tooMany(_ count: Int, _ maximum: Int) -> ProtocolError {
        ProtocolError(.tooManyRecords, "\(type) carries \(count) records; the most is \(maximum)", id: id)
    }

    func cursor(_ key: String) throws(ProtocolError) -> StreamCursor {
        guard let value = self[key] else { throw missing(key) }
        guard case .object = value else { throw wrongType(key, "an object", value) }
        let inner = MessageFields(members: value.objectMembers, type: "\(type).\(key)", id: id)
        let epoch = try inner.string("epoch")
        guard (1...ProtocolLimits.maximumEpochLength).contains(epoch.utf8.count) else {
            throw invalid("\(type).\(key).epoch must be 1-\(ProtocolLimits.maximumEpochLength) bytes")
        }
        return StreamCursor(epoch: epoch, seq: try inner.integer("seq", in: 0...ProtocolLimits.maximumSeq))
    }

    init(members: [JSONValue.Member], type: String, id: RequestID?) {
        self.members = members
        self.type = type
        self.id = id
    }
}

extension JSONValue {
    /// The members of an object (none for other values).
    public var objectMembers: [Member] {
        if case .object(let members) = self { return members }
        return []
    }
}
