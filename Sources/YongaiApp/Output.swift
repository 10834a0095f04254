import Foundation
import GRDB
import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import YongaiDomain

/// Tables for people and JSON lines for scripts, with stable field names.
public enum Output {
    public static func table(_ hits: [StationSearch.Hit]) -> String {
        var lines = [
            pad("ID", 10) + pad("KIND", 11) + pad("STATUS", 8) + pad("CHARGERS", 10) + pad("MEALS", 7)
                + pad("DISTANCE", 10)
                + "NAME"
        ]
        for hit in hits {
            lines.append(
                pad(hit.id, 10) + pad(hit.kind, 11) + pad(hit.status, 8)
                    + pad(hit.freeChargers.map(String.init) ?? "-", 10)
                    + pad(hit.mealsLeft.map(String.init) ?? "-", 7)
                    + pad(hit.distance.map { StationSearch.format(metres: $0) } ?? "-", 10) + hit.name)
        }
        if hits.isEmpty { lines.append("(no stations match)") }
        return lines.joined(separator: "\n")
    }

    public static func json(_ hits: [StationSearch.Hit]) -> String {
        jsonLines(
            hits.map { hit in
                [
                    .init("id", .string(hit.id)), .init("kind", .string(hit.kind)), .init("name", .string(hit.name)),
                    .init("district", hit.district.map(JSONValue.string) ?? .null),
                    .init("status", .string(hit.status)),
                    .init("free_chargers", hit.freeChargers.map { .integer(Int64($0)) } ?? .null),
                    .init("meals_left", hit.mealsLeft.map { .integer(Int64($0)) } ?? .null),
                    .init("lat", .real(hit.lat)),
                    .init("lon", .real(hit.lon)),
                    .init("distance_m", hit.distance.map { .integer(Int64($0.rounded())) } ?? .null),
                ]
            })
    }

    /// A rider's check-ins, newest first.
    public static func checkins(_ store: SyncStore, rider: String) throws -> [[JSONValue.Member]] {
        try store.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, station_id, purpose, at, device FROM checkins WHERE rider_id = ? ORDER BY at DESC, id",
                arguments: [rider])
        }.map { row in
            [
                .init("id", .string(row["id"])), .init("station_id", .string(row["station_id"])),
                .init("purpose", .string(row["purpose"])), .init("at", .integer(row["at"])),
                .init("device", .string(row["device"])),
            ]
        }
    }

    public static func checkinTable(_ rows: [[JSONValue.Member]]) -> String {
        var lines = [pad("WHEN (UTC)", 21) + pad("STATION", 10) + pad("PURPOSE", 9) + "ID"]
        for row in rows {
            let value = { (name: String) in JSONValue.object(row)[name] }
            var when = "-"
            if case .integer(let millis)? = value("at") {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [
                    .withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime,
                ]
                when = formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
            }
            lines.append(
                pad(when, 21) + pad(text(value("station_id")), 10) + pad(text(value("purpose")), 9) + text(value("id")))
        }
        if rows.isEmpty { lines.append("(no check-ins yet)") }
        return lines.joined(separator: "\n")
    }

    public static func status(_ store: SyncStore, settings: DeviceHome.Settings, json: Bool) throws -> String {
        let pending = try store.changeCount(after: store.cursor(named: "daemon.push"))
        let lastSync = try store.setting(named: "daemon.synced_at").flatMap { Int64($0) }
        let conflicts = try store.conflicts().count
        let refused = try store.refusals()
        if json {
            return String(
                decoding: JSONWriter.encode(
                    .object([
                        "replica": .string(store.replicaID.rawValue), "server": .string(settings.server),
                        "role": .string(settings.role), "subject": .string(settings.subject),
                        "pending": .integer(Int64(pending)), "last_sync_ms": lastSync.map(JSONValue.integer) ?? .null,
                        "conflicts": .integer(Int64(conflicts)), "refused": .integer(Int64(refused.count)),
                    ])), as: UTF8.self)
        }
        var lines = [
            "replica     \(store.replicaID)", "daemon      \(settings.server)",
            "speaks as   \(settings.role) \(settings.subject)",
            "pending     \(pending) changes to send",
            "last sync   \(lastSync.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "never")",
            "conflicts   \(conflicts)", "refused     \(refused.count)",
        ]
        lines += refused.prefix(10).map { "  \($0.collection) \($0.key): \($0.code): \($0.message)" }
        return lines.joined(separator: "\n")
    }

    public static func conflicts(_ store: SyncStore, json: Bool) throws -> String {
        let conflicts = try store.conflicts()
        if json {
            return jsonLines(
                conflicts.map { conflict in
                    [
                        .init("collection", .string(conflict.collection)), .init("key", .string(conflict.key)),
                        .init("field", .string(conflict.field)),
                        .init(
                            "values",
                            .array(
                                conflict.values.map { value in
                                    .object([
                                        "value": jsonValue(value.value), "replica": .string(value.dot.replica.rawValue),
                                        "counter": .integer(value.dot.counter),
                                        "hlc": .string(value.timestamp.description),
                                    ])
                                })), .init("winner", jsonValue(conflict.winner.value)),
                    ]
                })
        }
        if conflicts.isEmpty { return "no conflicts" }
        return conflicts.map { conflict in
            let values = conflict.values.map { "\($0.value) (by \($0.dot.replica))" }.joined(separator: " vs ")
            return
                "\(conflict.collection) \(conflict.key).\(conflict.field): \(values); showing \(conflict.winner.value)"
        }.joined(separator: "\n")
    }

    /// A value typed by the field it is for.
    public static func value(_ text: String, field: String, in collection: String) throws -> FieldValue {
        if text == "null" { return .null }
        if field == RecordState.deletedField {
            guard let flag = Bool(text) else { throw CLIError("_deleted takes true or false") }
            return .bool(flag)
        }
        guard let schema = YongaiCollections.schema.collections.first(where: { $0.name == collection }) else {
            throw CLIError("unknown collection \(collection.debugDescription): use stations, checkins or appeals")
        }
        guard let declared = schema.field(named: field) else {
            throw CLIError("\(collection) has no field \(field.debugDescription)")
        }
        switch declared.type {
        case .text: return .text(text)
        case .integer:
            guard let number = Int64(text) else { throw CLIError("\(collection).\(field) takes a whole number") }
            return .integer(number)
        case .real:
            guard let number = Double(text) else { throw CLIError("\(collection).\(field) takes a number") }
            return .real(number)
        case .boolean:
            guard let flag = Bool(text) else { throw CLIError("\(collection).\(field) takes true or false") }
            return .bool(flag)
        }
    }

    public static func jsonLines(_ rows: [[JSONValue.Member]]) -> String {
        rows.map { String(decoding: JSONWriter.encode(.object($0)), as: UTF8.self) }.joined(separator: "\n")
    }

    static func jsonValue(_ value: FieldValue) -> JSONValue {
        switch value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .integer(let number): .integer(number)
        case .real(let number): .real(number)
        case .text(let text): .string(text)
        }
    }

    private static func text(_ value: JSONValue?) -> String {
        if case .string(let text)? = value { return text }
        return "-"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

/// A one-line progress display on a terminal, for syncs that move more than a screenful.
public final class Progress: @unchecked Sendable {
    private var moved = 0
    private var shown = false
    private let terminal = isatty(STDERR_FILENO) != 0

    public init() {}

    public func show(_ event: ClientSession.Event) {
        switch event {
        case .pushed(let sent, _, _): moved += sent
        case .received(let count, _): moved += count
        case .send, .caughtUp: return
        }
        guard terminal, moved > 200 else { return }
        shown = true
        FileHandle.standardError.write(Data("\r  \(moved) records moved…".utf8))
    }

    public func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
