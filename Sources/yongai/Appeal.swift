import ArgumentParser
import Foundation
import GRDB
import SyncCore
import SyncProtocol
import SyncStore
import YongaiApp

/// Appeals: riders file, read and rate their own; the hotline (staff token) works them.
struct Appeal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "File, list, show and rate appeals; with a staff token, update them.",
        discussion: "JSON objects: id, rider_id, category, text, status, assignee, resolution, satisfaction.",
        subcommands: [File.self, List.self, Show.self, Rate.self, Update.self])

    @ParentCommand var root: Yongai

    static let fields = ["id", "rider_id", "category", "text", "status", "assignee", "resolution", "satisfaction"]

    static func rows(_ store: SyncStore, where condition: String, _ arguments: StatementArguments) throws -> [Row] {
        try store.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(fields.joined(separator: ", ")) FROM appeals WHERE \(condition) ORDER BY id",
                arguments: arguments)
        }
    }

    static func json(_ row: Row) -> [JSONValue.Member] {
        fields.map { name in
            let stored: DatabaseValue = row[name]
            if stored.isNull { return .init(name, .null) }
            if name == "satisfaction", let number: Int64 = row[name] { return .init(name, .integer(number)) }
            return .init(name, .string(row[name]))
        }
    }

    static func line(_ row: Row) -> String {
        let text: String = row["text"]
        let short = text.count > 40 ? String(text.prefix(39)) + "…" : text
        let score: Int64? = row["satisfaction"]
        let id: String = row["id"]
        let status: String = row["status"]
        let category: String = row["category"]
        return pad(id, 34) + pad(status, 13) + pad(category, 11) + pad(score.map(String.init) ?? "-", 7) + short
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// The appeal `id` as this device may see it.
    static func appeal(_ store: SyncStore, id: String, settings: DeviceHome.Settings) throws -> Row {
        guard let row = try rows(store, where: "id = ?", [id]).first,
            isStaff(settings) || (row["rider_id"] as String) == settings.subject
        else { throw CLIError("unknown appeal \(id.debugDescription)") }
        return row
    }

    static func isStaff(_ settings: DeviceHome.Settings) -> Bool { ["staff", "admin"].contains(settings.role) }

    struct File: AsyncParsableCommand, HomeCommand {
        static let configuration = CommandConfiguration(abstract: "File an appeal (works offline).")
        @OptionGroup var local: HomeOption
        @ParentCommand var appeal: Appeal
        var root: Yongai { appeal.root }

        @Option(help: "wages, injury, dispute, …")
        var category: String

        @Option(help: "What happened.")
        var text: String

        func run() async throws {
            try await running {
                let settings = try device.settings(command: "yongai")
                let store = try device.openStore()
                let id = "ap-\(store.replicaID)-\(SystemClock().nowMillis())"
                try store.write { transaction in
                    try transaction.put(
                        "appeals", key: id,
                        ["rider_id": .text(settings.subject), "category": .text(category), "text": .text(text)])
                }
                print("filed appeal \(id); the hotline sees it after the next yongai sync")
            }
        }
    }

    struct List: AsyncParsableCommand, HomeCommand {
        static let configuration = CommandConfiguration(
            abstract: "Your appeals (all of them with --all and a staff token).")
        @OptionGroup var local: HomeOption
        @ParentCommand var appeal: Appeal
        var root: Yongai { appeal.root }

        @Flag(help: "Every appeal this device holds (staff and admin tokens).")
        var all = false

        @Flag(help: "Print JSON lines.")
        var json = false

        func run() async throws {
            try await running {
                let settings = try device.settings(command: "yongai")
                if all, !Appeal.isStaff(settings) { throw CLIError("--all needs a staff or admin token") }
                let rows =
                    all
                    ? try Appeal.rows(device.openStore(), where: "1", [])
                    : try Appeal.rows(device.openStore(), where: "rider_id = ?", [settings.subject])
                if json {
                    print(Output.jsonLines(rows.map(Appeal.json)))
                } else {
                    let header =
                        Appeal.pad("ID", 34) + Appeal.pad("STATUS", 13) + Appeal.pad("CATEGORY", 11)
                        + Appeal.pad("SCORE", 7) + "TEXT"
                    print(rows.isEmpty ? "(no appeals)" : ([header] + rows.map(Appeal.line)).joined(separator: "\n"))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand, HomeCommand {
        static let configuration = CommandConfiguration(abstract: "One appeal in full.")
        @OptionGroup var local: HomeOption
        @ParentCommand var appeal: Appeal
        var root: Yongai { appeal.root }

        @Argument(help: "The appeal's id.")
        var id: String

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() async throws {
            try await running {
                let settings = try device.settings(command: "yongai")
                let row = try Appeal.appeal(device.openStore(), id: id, settings: settings)
                if json {
                    print(Output.jsonLines([Appeal.json(row)]))
                } else {
                    for member in Appeal.json(row) {
                        let value: String
                        switch member.value {
                        case .string(let text): value = text
                        case .integer(let number): value = String(number)
                        default: value = "-"
                        }
                        print(member.key.padding(toLength: 14, withPad: " ", startingAt: 0) + value)
                    }
                }
            }
        }
    }

    struct Rate: AsyncParsableCommand, HomeCommand {
        static let configuration = CommandConfiguration(abstract: "Rate how your appeal was handled, 1 to 5.")
        @OptionGroup var local: HomeOption
        @ParentCommand var appeal: Appeal
        var root: Yongai { appeal.root }

        @Argument(help: "The appeal's id.")
        var id: String

        @Option(help: "1 (poor) to 5 (excellent).")
        var score: Int

        func run() async throws {
            try await running {
                guard (1...5).contains(score) else { throw CLIError("bad score \(score): rate from 1 to 5") }
                let settings = try device.settings(command: "yongai")
                let store = try device.openStore()
                _ = try Appeal.appeal(store, id: id, settings: settings)
                try store.write { try $0.put("appeals", key: id, ["satisfaction": .integer(Int64(score))]) }
                print("rated \(id) \(score)/5")
            }
        }
    }

    struct Update: AsyncParsableCommand, HomeCommand {
        static let configuration = CommandConfiguration(abstract: "Work an appeal (staff and admin tokens).")
        @OptionGroup var local: HomeOption
        @ParentCommand var appeal: Appeal
        var root: Yongai { appeal.root }

        @Argument(help: "The appeal's id.")
        var id: String

        @Option(help: "filed, accepted, in_progress, resolved or closed.")
        var status: String?

        @Option(help: "Who works it.")
        var assignee: String?

        @Option(help: "How it was settled.")
        var resolution: String?

        func run() async throws {
            try await running {
                let settings = try device.settings(command: "yongai")
                guard Appeal.isStaff(settings) else {
                    throw CLIError("only the hotline (a staff token) updates appeals")
                }
                var values: [String: FieldValue] = [:]
                if let status { values["status"] = .text(status) }
                if let assignee { values["assignee"] = .text(assignee) }
                if let resolution { values["resolution"] = .text(resolution) }
                guard !values.isEmpty else { throw CLIError("give --status, --assignee or --resolution") }
                let store = try device.openStore()
                _ = try Appeal.appeal(store, id: id, settings: settings)
                try store.write { try $0.put("appeals", key: id, values) }
                print("updated \(id)")
            }
        }
    }
}
