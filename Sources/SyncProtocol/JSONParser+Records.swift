import SyncCore

/// The fast path for messages carrying records: the `records` array is read straight from
/// the bytes into raw records, without building a JSON tree. It handles well-formed input
/// only; anything unexpected throws, and the caller parses the line the generic way, which
/// finds and names the fault.
extension JSONParser {
    /// A message object: its members other than `records`, and the records when present.
    struct MessageWithRecords {
        var object: JSONValue
        var records: [RawRecordItem]?

        /// How many records `records` holds, runs counted by their rows.
        var recordCount: Int? {
            records?.reduce(0) { $0 + $1.recordCount }
        }
    }

    static func parseMessage(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> MessageWithRecords {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        try parser.expect(UInt8(ascii: "{"))
        var members: [JSONValue.Member] = []
        var records: [RawRecordItem]?
        try parser.members { (parser, key) throws(Failure) in
            if key == "records" {
                guard records == nil else { throw parser.failure("duplicate member records") }
                var list: [RawRecordItem] = []
                try parser.expect(UInt8(ascii: "["))
                try parser.elements { (parser) throws(Failure) in list.append(try parser.rawRecord()) }
                records = list
            } else {
                if members.contains(where: { $0.key == key }) { throw parser.failure("duplicate member \(key)") }
                members.append(JSONValue.Member(key, try parser.value()))
            }
        }
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.failure("unexpected text after the JSON value") }
        return MessageWithRecords(object: .object(members), records: records)
    }

    /// A record, or a run of records (told apart by its `rows`).
    private mutating func rawRecord() throws(Failure) -> RawRecordItem {
        var record = RawRecord()
        var run = RecordRun()
        var seen = 0
        try expect(UInt8(ascii: "{"))
        try members { (parser, key) throws(Failure) in
            switch key {
            case "c":
                let collection = try parser.quotedString()
                record.collection = collection
                run.collection = collection
                try parser.mark(1, in: &seen)
            case "k":
                record.key = try parser.quotedString()
                try parser.mark(2, in: &seen)
            case "ctx":
                try parser.mark(4, in: &seen)
                try parser.expect(UInt8(ascii: "["))
                try parser.elements { (parser) throws(Failure) in
                    try parser.expect(UInt8(ascii: "["))
                    let name = try parser.quotedString()
                    try parser.expect(UInt8(ascii: ","))
                    let counter = try parser.integer()
                    try parser.expect(UInt8(ascii: "]"))
                    record.context.append((name, counter))
                }
            case "d":
                record.base = try parser.stamp(closed: true)
                try parser.mark(16, in: &seen)
            case "f" where parser.next == UInt8(ascii: "["):
                try parser.mark(32, in: &seen)
                run.names = try parser.strings()
            case "f":
                try parser.mark(8, in: &seen)
                try parser.expect(UInt8(ascii: "{"))
                try parser.members { (parser, name) throws(Failure) in
                    parser.skipWhitespace()
                    if parser.next == UInt8(ascii: "[") {
                        parser.offset += 1
                        var values: [(RawRecord.Stamp, FieldValue)] = []
                        try parser.elements { (parser) throws(Failure) in
                            let stamp = try parser.stamp(closed: false)
                            try parser.expect(UInt8(ascii: ","))
                            let value = try parser.scalar()
                            try parser.expect(UInt8(ascii: "]"))
                            values.append((stamp, value))
                        }
                        record.fields.append((name, .list(values)))
                    } else {
                        record.fields.append((name, .bare(try parser.scalar())))
                    }
                }
            case "w":
                try parser.mark(64, in: &seen)
                run.writers = try parser.strings()
            case "rows":
                try parser.mark(128, in: &seen)
                try parser.expect(UInt8(ascii: "["))
                try parser.elements { (parser) throws(Failure) in
                    try parser.expect(UInt8(ascii: "["))
                    let key = try parser.quotedString()
                    try parser.expect(UInt8(ascii: ","))
                    let writer = try parser.integer()
                    try parser.expect(UInt8(ascii: ","))
                    let counter = try parser.integer()
                    try parser.expect(UInt8(ascii: ","))
                    let wall = try parser.integer()
                    try parser.expect(UInt8(ascii: ","))
                    let logical = try parser.integer()
                    var values: [FieldValue] = []
                    values.reserveCapacity(run.names.count)
                    while true {
                        guard let byte = parser.next else { throw parser.failure("unexpected end of text") }
                        parser.offset += 1
                        if byte == UInt8(ascii: "]") { break }
                        guard byte == UInt8(ascii: ",") else { throw parser.failure("expected ',' or ']'") }
                        values.append(try parser.scalar())
                    }
                    run.rows.append(
                        RecordRun.Row(
                            key: key, writer: writer, counter: counter, wall: wall, logical: logical, values: values))
                }
            default:
                throw parser.failure("unexpected record member")
            }
        }
        if seen == 1 | 32 | 64 | 128 { return .run(run) }
        guard seen & ~16 == 15 else { throw failure("incomplete record") }
        return .record(record)
    }

    /// Notes a member by its bit; a member seen twice is left to the generic path, which refuses it.
    private func mark(_ bit: Int, in seen: inout Int) throws(Failure) {
        guard seen & bit == 0 else { throw failure("duplicate record member") }
        seen |= bit
    }

    /// The next byte after whitespace, if any.
    private var next: UInt8? {
        mutating get {
            skipWhitespace()
            return offset < bytes.count ? bytes[offset] : nil
        }
    }

    /// A JSON array of strings.
    private mutating func strings() throws(Failure) -> [String] {
        var result: [String] = []
        try expect(UInt8(ascii: "["))
        try elements { (parser) throws(Failure) in result.append(try parser.quotedString()) }
        return result
    }

    /// Reads `"key": value` members up to the closing brace (the opening one already read).
    private mutating func members(_ body: (inout JSONParser, String) throws(Failure) -> Void) throws(Failure) {
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return
        }
        while true {
            let key = try quotedString()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try body(&self, key)
            skipWhitespace()
            guard offset < bytes.count else { throw failure("unexpected end of text") }
            let byte = bytes[offset]
            offset += 1
            if byte == UInt8(ascii: ",") { continue }
            guard byte == UInt8(ascii: "}") else { throw failure("expected ',' or '}'") }
            return
        }
    }

    /// Reads elements up to the closing bracket (the opening one already read).
    private mutating func elements(_ body: (inout JSONParser) throws(Failure) -> Void) throws(Failure) {
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return
        }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            guard offset < bytes.count else { throw failure("unexpected end of text") }
            let byte = bytes[offset]
            offset += 1
            if byte == UInt8(ascii: ",") { continue }
            guard byte == UInt8(ascii: "]") else { throw failure("expected ',' or ']'") }
            return
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == byte else { throw failure("unexpected character") }
        offset += 1
    }

    private mutating func quotedString() throws(Failure) -> String {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw failure("expected a string") }
        return try string()
    }

    private mutating func integer() throws(Failure) -> Int64 {
        skipWhitespace()
        guard case .integer(let number) = try number() else { throw failure("expected an integer") }
        return number
    }

    /// `[index, counter, wall, logical` and, when `closed`, the `]`.
    private mutating func stamp(closed: Bool) throws(Failure) -> RawRecord.Stamp {
        try expect(UInt8(ascii: "["))
        let index = try integer()
        try expect(UInt8(ascii: ","))
        let counter = try integer()
        try expect(UInt8(ascii: ","))
        let wall = try integer()
        try expect(UInt8(ascii: ","))
        let logical = try integer()
        if closed { try expect(UInt8(ascii: "]")) }
        return (index, counter, wall, logical)
    }

    private mutating func scalar() throws(Failure) -> FieldValue {
        skipWhitespace()
        switch try value() {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .integer(let number): return .integer(number)
        case .real(let number): return .real(number)
        case .string(let text): return .text(text)
        case .array, .object: throw failure("field values are scalars")
        }
    }
}
