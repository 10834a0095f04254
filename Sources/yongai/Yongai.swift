import ArgumentParser
import Foundation
import Logging
import SyncClient
import SyncCore
import SyncSession
import SyncStore
import YongaiApp

/// The rider's command line: nearby stations, check-ins, sync, conflicts — all on the local
/// store, working with no network; sync happens when it can.
@main
struct Yongai: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yongai",
        abstract: "The Yong'ai rider CLI: stations, check-ins and sync, offline first.",
        discussion: """
            Listings take --json. Their objects use these names: stations: id, kind, name, district, status,
            free_chargers, meals_left, lat, lon, distance_m; check-ins: id, station_id, purpose, at, device;
            status: replica, server, role, subject, pending, last_sync_ms, conflicts, refused; conflicts:
            collection, key, field, values [{value, replica, counter, hlc}], winner.
            """,
        subcommands: [
            Init.self, Stations.self, Checkin.self, Checkins.self, Appeal.self, Sync.self, Status.self, Conflicts.self,
            Resolve.self,
        ])

    @OptionGroup var home: HomeOption
}

/// A subcommand that works on the device home, given before or after its name.
protocol HomeCommand {
    var local: HomeOption { get }
    var root: Yongai { get }
}

extension HomeCommand {
    var device: DeviceHome { DeviceHome(explicit: local.path ?? root.home.path) }
}

struct HomeOption: ParsableArguments {
    @Option(name: .customLong("home"), help: "The device's home (default: $YONGAI_HOME, else ~/.yongai).")
    var path: String?

}

/// Runs a command body, turning any error into one line on standard error and an exit code.
func running(_ body: () async throws -> Void) async throws {
    try await CommandRunner.run(as: "yongai", body)
}

struct Init: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(abstract: "Create the local store and remember the daemon.")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @Option(help: "The daemon, as HOST:PORT.")
    var server: String

    @Option(help: "Your token (from the daemon's operator).")
    var token: String

    func run() async throws {
        try await running {
            try CommandRunner.checkServer(server)
            let claims = try TokenClaims(token: token)
            if let warning = try claims.checkExpiry() {
                FileHandle.standardError.write(Data("\(warning)\n".utf8))
            }
            let store = try device.initialize(
                .init(server: server, token: token, role: claims.role, subject: claims.subject, station: nil))
            print(
                "initialized \(device.path): replica \(store.replicaID), \(claims.role) \(claims.subject), daemon \(server)"
            )
        }
    }
}

struct Stations: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(abstract: "List stations, nearest first with --near.")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @Option(help: "Your position, as LAT,LON: sorts by distance.")
    var near: String?

    @Option(help: "rest_stop, charging, merchant or community.")
    var kind: String?

    @Flag(help: "Only open stations.")
    var open = false

    @Flag(help: "Only stations with a free charger.")
    var freeChargers = false

    @Flag(help: "Only merchants with meals left.")
    var meals = false

    @Option(help: "At most this many.")
    var limit = 20

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func run() async throws {
        try await running {
            var search = StationSearch()
            search.near = try near.map(StationSearch.position)
            if let kind, !["rest_stop", "charging", "merchant", "community"].contains(kind) {
                throw CLIError("unknown kind \(kind.debugDescription): use rest_stop, charging, merchant or community")
            }
            guard limit > 0 else { throw CLIError("--limit must be positive") }
            search.kind = kind
            search.openOnly = open
            search.freeChargers = freeChargers
            search.meals = meals
            search.limit = limit
            _ = try device.settings(command: "yongai")
            let hits = try search.run(try device.openStore())
            print(json ? Output.json(hits) : Output.table(hits))
        }
    }
}

struct Checkin: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(abstract: "Check in at a station (works offline).")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @Argument(help: "The station's id.")
    var station: String

    @Option(help: "rest, charge, meal or other.")
    var purpose = "rest"

    func run() async throws {
        try await running {
            let settings = try device.settings(command: "yongai")
            let store = try device.openStore()
            guard try store.record("stations", key: station).map({ !$0.isDeleted }) ?? false else {
                throw CLIError("unknown station \(station.debugDescription) (run yongai sync to get the station list)")
            }
            let key = try device.checkIn(rider: settings.subject, station: station, purpose: purpose, into: store)
            print("checked in at \(station) (\(purpose)) as \(key); it syncs with the next yongai sync")
        }
    }
}

struct Checkins: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(abstract: "Your check-ins, newest first.")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func run() async throws {
        try await running {
            let settings = try device.settings(command: "yongai")
            let rows = try Output.checkins(try device.openStore(), rider: settings.subject)
            print(json ? Output.jsonLines(rows) : Output.checkinTable(rows))
        }
    }
}

struct Sync: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push local changes and pull new ones until caught up. Exits 75 when the daemon cannot be reached.")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @OptionGroup var timeout: SyncTimeoutOption

    func run() async throws {
        try await running {
            let settings = try device.settings(command: "yongai")
            let progress = Progress()
            defer { progress.finish() }
            print(
                try await device.syncOnce(
                    settings, command: "yongai", timeout: timeout.duration
                ) { progress.show($0) })
        }
    }
}

struct Status: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replica, daemon, pending changes, last sync, conflicts, refusals.")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        try await running {
            let settings = try device.settings(command: "yongai")
            print(try Output.status(try device.openStore(), settings: settings, json: json))
        }
    }
}

struct Conflicts: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fields holding concurrent values, with the value shown meanwhile.")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @Flag(help: "Print JSON lines.")
    var json = false

    func run() async throws {
        try await running {
            _ = try device.settings(command: "yongai")
            print(try Output.conflicts(try device.openStore(), json: json))
        }
    }
}

struct Resolve: AsyncParsableCommand, HomeCommand {
    static let configuration = CommandConfiguration(
        abstract: "Settle a conflict by writing one value over all of them.")

    @OptionGroup var local: HomeOption
    @ParentCommand var root: Yongai

    @Argument(help: "stations, checkins or appeals.")
    var collection: String

    @Argument(help: "The record's id.")
    var key: String

    @Argument(help: "The field in conflict.")
    var field: String

    @Argument(help: "The value to keep (text, a number, true/false, or null).")
    var value: String

    func run() async throws {
        try await running {
            _ = try device.settings(command: "yongai")
            let store = try device.openStore()
            try store.write {
                try $0.resolve(
                    collection, key: key, field: field, value: Output.value(value, field: field, in: collection))
            }
            print("resolved \(collection) \(key).\(field); it syncs with the next yongai sync")
        }
    }
}
