import SyncCore

/// How a record state travels: collection, key and the full replicated state.
///
/// JSON form: `{"c": collection, "k": key, "ctx": [[replica, counter], ...],
/// "d": [replica index, counter, wall ms, logical], "f": {field: value or siblings}}`.
/// A field whose one value was written by the default dot `d` is the bare value; any other
/// field is a list of `[replica index, counter, wall ms, logical, value]`, sorted by dot.
/// Replica indexes point into `ctx`. Reals carry a fraction or exponent; integers do not.
extension KeyedRecord {
    /// The most writers one run names; a run that would name more ends there.
    static let maximumRunWriters = 64

    /// Writes `records` as a JSON `records` list, in order: consecutive records made by a
    /// single write of the same fields of one collection go as one run (`RecordRun`), the
    /// rest whole.
    public static func writeList(_ records: [KeyedRecord], to writer: inout JSONWriter) {
        writer.raw(UInt8(ascii: "["))
        var index = 0
        var writes: [SingleWrite] = []
        var writers: [ReplicaID] = []
        while index < records.count {
            if index > 0 { writer.raw(UInt8(ascii: ",")) }
            guard let first = records[index].singleWrite else {
                records[index].write(to: &writer)
                index += 1
                continue
            }
            let collection = records[index].collection
            writes = [first]
            writers = [first.dot.replica]
            var end = index + 1
            while end < records.count, records[end].collection == collection, let next = records[end].singleWrite,
                next.names == first.names
            {
                if !writers.contains(next.dot.replica) {
                    if writers.count == maximumRunWriters { break }
                    writers.append(next.dot.replica)
                }
                writes.append(next)
                end += 1
            }
            writer.raw("{\"c\":")
            writer.write(collection)
            writer.raw(",\"f\":[")
            for (nameIndex, name) in first.names.enumerated() {
                if nameIndex > 0 { writer.raw(UInt8(ascii: ",")) }
                writer.write(name)
            }
            writer.raw("],\"w\":[")
            for (writerIndex, replica) in writers.enumerated() {
                if writerIndex > 0 { writer.raw(UInt8(ascii: ",")) }
                writer.write(replica.rawValue)
            }
            writer.raw("],\"rows\":[")
            for (row, write) in writes.enumerated() {
                writer.raw(row > 0 ? ",[" : "[")
                writer.write(records[index + row].key)
                writer.raw(UInt8(ascii: ","))
                writeStamp(
                    Int64(writers.firstIndex(of: write.dot.replica) ?? 0), write.dot, write.timestamp, to: &writer)
                for value in write.values {
                    writer.raw(UInt8(ascii: ","))
                    writeValue(value, to: &writer)
                }
                writer.raw(UInt8(ascii: "]"))
            }
            writer.raw("]}")
            index = end
        }
        writer.raw(UInt8(ascii: "]"))
    }

    /// `records` with those of one collection and one field list together (groups in order of
    /// first appearance, each in its own order), so that `writeList` sends each group as one
    /// run. For a batch whose order carries nothing (each record once, merged as a whole).
    public static func groupedInRuns(_ records: [KeyedRecord]) -> [KeyedRecord] {
        var groups: [(collection: String, names: [String]?, records: [KeyedRecord])] = []
        var last = -1
        for record in records {
            let names = record.singleWrite?.names
            if last >= 0, groups[last].names == names, groups[last].collection == record.collection {
                groups[last].records.append(record)
                continue
            }
            if let index = groups.firstIndex(where: { $0.names == names && $0.collection == record.collection }) {
                last = index
                groups[index].records.append(record)
            } else {
                last = groups.count
                groups.append((record.collection, names, [record]))
            }
        }
        return groups.count == 1 ? groups[0].records : groups.flatMap(\.records)
    }

    /// Writes the record as JSON, whole.
    public func write(to writer: inout JSONWriter) {
        let entries = state.context.entries
        writer.raw("{\"c\":")
        writer.write(collection)
        writer.raw(",\"k\":")
        writer.write(key)
        writer.raw(",\"ctx\":[")
        for (index, entry) in entries.enumerated() {
            if index > 0 { writer.raw(UInt8(ascii: ",")) }
            writer.raw(UInt8(ascii: "["))
            writer.write(entry.replica.rawValue)
            writer.raw(UInt8(ascii: ","))
            writer.write(entry.counter)
            writer.raw(UInt8(ascii: "]"))
        }
        writer.raw("]")
        // The stamp most fields share is the default: those fields go bare.
        let base = state.commonStamp
        if let base {
            writer.raw(",\"d\":")
            KeyedRecord.writeStamp(base, entries, closing: true, to: &writer)
        }
        writer.raw(",\"f\":{")
        for (index, field) in state.fields.enumerated() {
            if index > 0 { writer.raw(UInt8(ascii: ",")) }
            writer.write(field.name)
            writer.raw(UInt8(ascii: ":"))
            if let single = field.register.single, let base, single.dot == base.dot, single.timestamp == base.timestamp
            {
                KeyedRecord.writeValue(single.value, to: &writer)
                continue
            }
            writer.raw(UInt8(ascii: "["))
            for (valueIndex, value) in field.register.enumerated() {
                if valueIndex > 0 { writer.raw(UInt8(ascii: ",")) }
                KeyedRecord.writeStamp(value, entries, closing: false, to: &writer)
                writer.raw(UInt8(ascii: ","))
                KeyedRecord.writeValue(value.value, to: &writer)
                writer.raw(UInt8(ascii: "]"))
            }
            writer.raw(UInt8(ascii: "]"))
        }
        writer.raw("}}")
    }

    private static func writeStamp(
        _ value: RegisterValue, _ entries: [VersionVector.Entry], closing: Bool, to writer: inout JSONWriter
    ) {
        writer.raw(UInt8(ascii: "["))
        writeStamp(
            Int64(entries.firstIndex { $0.replica == value.dot.replica } ?? 0), value.dot, value.timestamp, to: &writer)
        if closing { writer.raw(UInt8(ascii: "]")) }
    }

    /// `replica index,counter,wall ms,logical`: a dot and timestamp as both forms write them.
    private static func writeStamp(
        _ replicaIndex: Int64, _ dot: Dot, _ timestamp: HybridTimestamp, to writer: inout JSONWriter
    ) {
        writer.write(replicaIndex)
        writer.raw(UInt8(ascii: ","))
        writer.write(dot.counter)
        writer.raw(UInt8(ascii: ","))
        writer.write(timestamp.wallMillis)
        writer.raw(UInt8(ascii: ","))
        writer.write(timestamp.logical)
    }

    static func writeValue(_ value: FieldValue, to writer: inout JSONWriter) {
        switch value {
        case .null: writer.raw("null")
        case .bool(let flag): writer.raw(flag ? "true" : "false")
        case .integer(let number): writer.write(number)
        case .real(let number): writer.write(number)
        case .text(let text): writer.write(text)
        }
    }

    /// Reads a record from its JSON form, refusing anything a replica could not have sent.
    public init(json: JSONValue) throws(ProtocolError) {
        try self.init(raw: try RawRecord(json: json))
    }

    /// Checks a record read from the wire and builds its state.
    init(raw: RawRecord) throws(ProtocolError) {
        var state: RecordState
        var entries: [VersionVector.Entry] = []
        entries.reserveCapacity(raw.context.count)
        for (name, counter) in raw.context {
            guard counter > 0, counter <= Dot.maximumCounter, let replica = try? ReplicaID(name) else {
                throw Self.invalid("ctx entries are [replica, counter 1-\(Dot.maximumCounter)]")
            }
            entries.append(VersionVector.Entry(replica: replica, counter: counter))
        }
        let context: VersionVector
        do {
            context = try VersionVector(validating: entries)
        } catch {
            throw Self.invalid("ctx entries must be sorted by replica id (byte order), each replica once")
        }
        let base = try raw.base.map { (stamp) throws(ProtocolError) in try Self.stamp(stamp, entries) }
        var fields: [RecordState.Field] = []
        fields.reserveCapacity(raw.fields.count)
        // Every dot of a value given in a list, with its timestamp: one write has one timestamp.
        var stamps: [(dot: Dot, timestamp: HybridTimestamp)] = []
        for (name, field) in raw.fields {
            switch field {
            case .list(let list):
                var parsed: [RegisterValue] = []
                parsed.reserveCapacity(list.count)
                for (stamp, value) in list {
                    let (dot, timestamp) = try Self.stamp(stamp, entries)
                    parsed.append(RegisterValue(value: value, dot: dot, timestamp: timestamp))
                }
                do {
                    fields.append(RecordState.Field(name: name, register: try MultiValueRegister(validating: parsed)))
                } catch {
                    throw Self.invalid("field \(name): values must be sorted by (replica id, counter), each dot once")
                }
                stamps.append(contentsOf: parsed.lazy.map { ($0.dot, $0.timestamp) })
            case .bare(let value):
                // One value by the default dot: a single register, no array.
                guard let base else { throw Self.invalid("field \(name) uses the default dot but d is absent") }
                let register = MultiValueRegister(RegisterValue(value: value, dot: base.dot, timestamp: base.timestamp))
                fields.append(RecordState.Field(name: name, register: register))
            }
        }
        // `f` is a JSON object, whose member order carries nothing: sort what arrives otherwise.
        if !zip(fields, fields.dropFirst()).allSatisfy({ RecordState.namePrecedes($0.name, $1.name) }) {
            fields.sort { RecordState.namePrecedes($0.name, $1.name) }
        }
        if !stamps.isEmpty {
            if let base { stamps.append(base) }
            try Self.checkOneTimestampPerWrite(&stamps)
        }
        do {
            state = try RecordState(validatingFields: fields, context: context)
        } catch {
            throw Self.invalid(error.message)
        }
        self.init(collection: raw.collection, key: raw.key, state: state)
    }

    private static func stamp(_ stamp: RawRecord.Stamp, _ entries: [VersionVector.Entry]) throws(ProtocolError)
        -> (dot: Dot, timestamp: HybridTimestamp)
    {
        let (index, counter, wall, logical) = stamp
        guard index >= 0, index < entries.count, counter > 0, counter <= entries[Int(index)].counter, wall >= 0,
            wall <= HybridTimestamp.maximumWallMillis, logical >= 0, logical <= HybridTimestamp.maximumLogical
        else {
            throw invalid(
                "a dot is [replica index into ctx, counter 1 to its ctx counter, wall ms 0-\(HybridTimestamp.maximumWallMillis), logical 0-65535]"
            )
        }
        return (
            Dot(replica: entries[Int(index)].replica, counter: counter),
            HybridTimestamp(wallMillis: wall, logical: logical)
        )
    }

    /// Refuses a write id given with two timestamps: one write has one timestamp in every
    /// field it sets.
    private static func checkOneTimestampPerWrite(_ stamps: inout [(dot: Dot, timestamp: HybridTimestamp)])
        throws(ProtocolError)
    {
        stamps.sort { $0.dot < $1.dot }
        for (previous, next) in zip(stamps, stamps.dropFirst())
        where previous.dot == next.dot && previous.timestamp != next.timestamp {
            throw invalid("write \(next.dot) is given with two timestamps; one write has one timestamp")
        }
    }

    static func fieldValue(_ json: JSONValue) throws(ProtocolError) -> FieldValue {
        switch json {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .integer(let number): return .integer(number)
        case .real(let number): return .real(number)
        case .string(let text): return .text(text)
        case .array, .object: throw invalid("field values are JSON scalars")
        }
    }

    static func invalid(_ message: String) -> ProtocolError {
        ProtocolError(.invalidValue, "invalid record: \(message)")
    }
}
