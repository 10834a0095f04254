import SyncCore

/// A run of records of one collection each made by a single write of the same fields, as they
/// travel: the field names once, then one row per record.
///
/// JSON form: `{"c": collection, "f": [field, ...], "w": [replica, ...], "rows": [[key,
/// writer index, counter, wall ms, logical, value, ...], ...]}`. Names are in name order
/// without `_deleted`; each row holds one value per name, in that order. A row stands for the
/// state whose every field, and `_deleted = false`, carry the dot `(w[writer index], counter)`
/// and the timestamp, with that dot as its context.
struct RecordRun {
    /// The parts before a row's values.
    static let rowPrefix = 5

    struct Row {
        var key: String
        var writer: Int64
        var counter: Int64
        var wall: Int64
        var logical: Int64
        var values: [FieldValue]
    }

    var collection = ""
    var names: [String] = []
    var writers: [String] = []
    var rows: [Row] = []

    init() {}

    /// Reads the shape from a parsed JSON value, with the protocol's error for each fault.
    init(json: JSONValue) throws(ProtocolError) {
        guard case .object(let members) = json else { throw KeyedRecord.invalid("a record run must be an object") }
        var seen = (collection: false, names: false, writers: false, rows: false)
        for member in members {
            switch (member.key, member.value) {
            case ("c", .string(let text)):
                collection = text
                seen.collection = true
            case ("f", .array(let elements)):
                seen.names = true
                for element in elements {
                    guard case .string(let name) = element else { throw KeyedRecord.invalid("run f holds field names") }
                    names.append(name)
                }
            case ("w", .array(let elements)):
                seen.writers = true
                for element in elements {
                    guard case .string(let name) = element else { throw KeyedRecord.invalid("run w holds replica ids") }
                    writers.append(name)
                }
            case ("rows", .array(let elements)):
                seen.rows = true
                for element in elements {
                    guard case .array(let items) = element, items.count >= Self.rowPrefix,
                        case .string(let key) = items[0], case .integer(let writer) = items[1],
                        case .integer(let counter) = items[2], case .integer(let wall) = items[3],
                        case .integer(let logical) = items[4]
                    else {
                        throw KeyedRecord.invalid(
                            "run rows are [key, writer index, counter, wall ms, logical, value, ...]")
                    }
                    var values: [FieldValue] = []
                    values.reserveCapacity(items.count - Self.rowPrefix)
                    for item in items[Self.rowPrefix...] { values.append(try KeyedRecord.fieldValue(item)) }
                    rows.append(
                        Row(key: key, writer: writer, counter: counter, wall: wall, logical: logical, values: values))
                }
            case ("c", _), ("f", _), ("w", _), ("rows", _):
                throw KeyedRecord.invalid("run member \(member.key) has the wrong type (\(member.value.typeName))")
            default:
                throw KeyedRecord.invalid("record runs have no member \(member.key.debugDescription)")
            }
        }
        guard seen.collection, seen.names, seen.writers, seen.rows else {
            throw KeyedRecord.invalid("a record run needs c, f, w and rows")
        }
    }

    /// Checks the run and appends its records, one per row, sharing one names array.
    func appendRecords(to records: inout [KeyedRecord]) throws(ProtocolError) {
        guard (1...KeyedRecord.maximumRunWriters).contains(writers.count) else {
            throw KeyedRecord.invalid("run w names 1-\(KeyedRecord.maximumRunWriters) writers (got \(writers.count))")
        }
        var replicas: [ReplicaID] = []
        replicas.reserveCapacity(writers.count)
        for writer in writers {
            guard let replica = try? ReplicaID(writer) else { throw KeyedRecord.invalid("run w holds replica ids") }
            guard !replicas.contains(replica) else { throw KeyedRecord.invalid("run w names \(replica) twice") }
            replicas.append(replica)
        }
        // Checked once; every row's write shares the array.
        do {
            try SingleWrite.validate(names: names)
        } catch {
            throw KeyedRecord.invalid("run f: \(error.message)")
        }
        records.reserveCapacity(records.count + rows.count)
        for row in rows {
            guard row.values.count == names.count else {
                throw KeyedRecord.invalid(
                    "run row \(row.key.debugDescription) holds \(row.values.count) values for \(names.count) fields")
            }
            guard row.writer >= 0, row.writer < replicas.count, row.counter > 0, row.counter <= Dot.maximumCounter,
                row.wall >= 0,
                row.wall <= HybridTimestamp.maximumWallMillis, row.logical >= 0,
                row.logical <= HybridTimestamp.maximumLogical
            else {
                throw KeyedRecord.invalid(
                    "run row \(row.key.debugDescription): a write is [writer index, counter 1-\(Dot.maximumCounter), wall ms 0-\(HybridTimestamp.maximumWallMillis), logical 0-65535]"
                )
            }
            let write = SingleWrite(
                dot: Dot(replica: replicas[Int(row.writer)], counter: row.counter),
                timestamp: HybridTimestamp(wallMillis: row.wall, logical: row.logical), orderedNames: names,
                values: row.values)
            records.append(KeyedRecord(collection: collection, key: row.key, singleWrite: write))
        }
    }
}
