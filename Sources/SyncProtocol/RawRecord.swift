import SyncCore

/// A record as read off the wire, checked for shape but not yet for meaning (counters, dots
/// inside the context, sorting): what both the generic JSON path and the fast byte path
/// produce, so one set of checks serves both.
struct RawRecord {
    typealias Stamp = (index: Int64, counter: Int64, wall: Int64, logical: Int64)

    enum Field {
        /// One value written by the default dot.
        case bare(FieldValue)
        /// Values each with their own dot.
        case list([(Stamp, FieldValue)])
    }

    var collection = ""
    var key = ""
    var context: [(String, Int64)] = []
    var base: Stamp?
    var fields: [(String, Field)] = []

    init() {}

    /// Reads the shape from a parsed JSON value, with the protocol's error for each fault.
    init(json: JSONValue) throws(ProtocolError) {
        guard case .object(let members) = json else { throw KeyedRecord.invalid("a record must be an object") }
        var seen = (collection: false, key: false, context: false, fields: false)
        for member in members {
            switch (member.key, member.value) {
            case ("c", .string(let text)):
                collection = text
                seen.collection = true
            case ("k", .string(let text)):
                key = text
                seen.key = true
            case ("ctx", .array(let elements)):
                seen.context = true
                for element in elements {
                    guard case .array(let pair) = element, pair.count == 2, case .string(let name) = pair[0],
                        case .integer(let counter) = pair[1]
                    else { throw KeyedRecord.invalid("ctx entries are [replica, counter > 0]") }
                    context.append((name, counter))
                }
            case ("d", .array(let elements)):
                base = try Self.stamp(elements)
            case ("f", .object(let members)):
                seen.fields = true
                for field in members {
                    if case .array(let list) = field.value {
                        var values: [(Stamp, FieldValue)] = []
                        for element in list {
                            guard case .array(let tuple) = element, tuple.count == 5 else {
                                throw KeyedRecord.invalid(
                                    "field \(field.key) values are [replica index, counter, wall, logical, value]")
                            }
                            values.append((try Self.stamp(Array(tuple[0..<4])), try KeyedRecord.fieldValue(tuple[4])))
                        }
                        fields.append((field.key, .list(values)))
                    } else {
                        fields.append((field.key, .bare(try KeyedRecord.fieldValue(field.value))))
                    }
                }
            case ("c", _), ("k", _), ("ctx", _), ("d", _), ("f", _):
                throw KeyedRecord.invalid("record member \(member.key) has the wrong type (\(member.value.typeName))")
            default:
                throw KeyedRecord.invalid("records have no member \(member.key.debugDescription)")
            }
        }
        guard seen.collection, seen.key, seen.context, seen.fields else {
            throw KeyedRecord.invalid("a record needs c, k, ctx and f")
        }
    }

    private static func stamp(_ items: [JSONValue]) throws(ProtocolError) -> Stamp {
        guard items.count == 4, case .integer(let index) = items[0], case .integer(let counter) = items[1],
            case .integer(let wall) = items[2], case .integer(let logical) = items[3]
        else { throw KeyedRecord.invalid("a dot is [replica index, counter > 0, wall ms, logical 0-65535]") }
        return (index, counter, wall, logical)
    }
}

/// One element of a `records` list as read: a record, or a run of single-write records.
enum RawRecordItem {
    case record(RawRecord)
    case run(RecordRun)

    /// Reads the shape from a parsed JSON value: an object with `rows` is a run.
    init(json: JSONValue) throws(ProtocolError) {
        if case .object(let members) = json, members.contains(where: { $0.key == "rows" }) {
            self = .run(try RecordRun(json: json))
        } else {
            self = .record(try RawRecord(json: json))
        }
    }

    /// The records it stands for.
    var recordCount: Int {
        switch self {
        case .record: 1
        case .run(let run): run.rows.count
        }
    }
}
