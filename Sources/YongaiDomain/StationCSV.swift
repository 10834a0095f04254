import SyncCore

/// The station registry as CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF), with a
/// header naming the columns: `id`, then any of the station fields (`kind`, `name`,
/// `district`, `address`, `lat`, `lon`, `open_hours`, `status`, `free_chargers`, `meals_left`).
public enum StationCSV {
    /// One station row: its key and field values, typed by the stations collection.
    public struct Row: Sendable {
        public let key: String
        public let values: [String: FieldValue]
    }

    /// Why a file cannot be imported: the line and the reason.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(Failure) -> [Row] {
        let records = try records(text)
        guard let header = records.first else { throw Failure(line: 1, message: "the file is empty") }
        let columns = header.fields.map { $0.trimmingCharacters(in: " ") }
        guard columns.first == "id" else { throw Failure(line: 1, message: "the first column must be id") }
        let schema = YongaiCollections.stations
        for column in columns.dropFirst() where schema.field(named: column) == nil {
            throw Failure(line: 1, message: "stations have no field \(column)")
        }
        var rows: [Row] = []
        for record in records.dropFirst() where !(record.fields.count == 1 && record.fields[0].isEmpty) {
            guard record.fields.count == columns.count else {
                throw Failure(
                    line: record.line, message: "expected \(columns.count) fields, found \(record.fields.count)")
            }
            var values: [String: FieldValue] = [:]
            for (column, raw) in zip(columns.dropFirst(), record.fields.dropFirst()) where !raw.isEmpty {
                let field = schema.field(named: column)!
                guard let value = typed(raw, field.type) else {
                    throw Failure(
                        line: record.line,
                        message: "\(column) must be a \(field.type.rawValue) (got \(raw.debugDescription))")
                }
                values[column] = value
            }
            rows.append(Row(key: record.fields[0], values: values))
        }
        return rows
    }

    private static func typed(_ raw: String, _ type: FieldType) -> FieldValue? {
        switch type {
        case .text: return .text(raw)
        case .integer: return Int64(raw).map(FieldValue.integer)
        case .real: return Double(raw).flatMap { $0.isFinite ? FieldValue.real($0) : nil }
        case .boolean:
            switch raw.lowercased() {
            case "true", "1", "yes": return .bool(true)
            case "false", "0", "no": return .bool(false)
            default: return nil
            }
        }
    }

    private struct Record {
        let line: Int
        let fields: [String]
    }

    private static func records(_ text: String) throws(Failure) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var characters = Array(text.unicodeScalars)[...]
        if characters.first == "\u{FEFF}" { characters = characters.dropFirst() }
        var index = characters.startIndex
        while index < characters.endIndex {
            let character = characters[index]
            index += 1
            if inQuotes {
                if character == "\"" {
                    if index < characters.endIndex, characters[index] == "\"" {
                        field.unicodeScalars.append("\"")
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if character == "\n" { line += 1 }
                    field.unicodeScalars.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                guard field.isEmpty else { throw Failure(line: line, message: "a quote inside an unquoted field") }
                inQuotes = true
            case ",":
                fields.append(field)
                field = ""
            case "\r":
                continue
            case "\n":
                fields.append(field)
                records.append(Record(line: recordLine, fields: fields))
                fields = []
                field = ""
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(character)
            }
        }
        if inQuotes { throw Failure(line: line, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            records.append(Record(line: recordLine, fields: fields))
        }
        return records
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
