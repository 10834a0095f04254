import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SyncClient
import SyncCore
import SyncSession
import SyncStore
import YongaiApp

/// The agent on a station's device: a local store for kiosk commands, kept in sync by `run`.
/// Kiosk commands work at any time, also while `run` is running (the store is shared).
@main
struct YongaiStation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yongai-station",
        abstract: "The Yong'ai station agent: kiosk check-ins and status, synced when the network allows.",
        subcommands: [Init.self, Run.self, Checkin.self, Set.self, Show.self, Status.self, Sync.self])

    @OptionGroup var home: StationHomeOption
}

struct StationHomeOption: ParsableArguments {
    @Option(name: .customLong("home"), help: "The device's home (default: $YONGAI_HOME, else ~/.yongai).")
    var path: String?
}

/// A subcommand that works on the device home, given before or after its name.
protocol StationCommand {
    var local: StationHomeOption { get }
    var root: YongaiStation { get }
}

extension StationCommand {
    var device: DeviceHome { DeviceHome(explicit: local.path ?? root.home.path) }

    /// The settings and the station this device serves.
    func station() throws -> (settings: DeviceHome.Settings, station: String) {
        let settings = try device.settings(command: "yongai-station")
        guard let station = settings.station else {
            throw CLIError("\(device.path) is not a station device: run yongai-station init --station ID")
        }
        return (settings, station)
    }
}

/// Runs a command body, turning any error into one line on standard error and an exit code.
func running(_ body: () async throws -> Void) async throws {
    try await CommandRunner.run(as: "yongai-station", body)
}

struct Init: AsyncParsableCommand, StationCommand {
    static let configuration = CommandConfiguration(abstract: "Create the station's local store.")
    @OptionGroup var local: StationHomeOption
    @ParentCommand var root: YongaiStation

    @Option(help: "The station this device serves.")
    var station: String

    @Option(help: "The daemon, as HOST:PORT.")
    var server: String

    @Option(help: "The station's token (role station, subject the station id).")
    var token: String

    func run() async throws {
        try await running {
            try CommandRunner.checkServer(server)
            let claims = try TokenClaims(token: token)
            if let warning = try claims.checkExpiry() {
                FileHandle.standardError.write(Data("\(warning)\n".utf8))
            }
            guard claims.role == "station", claims.subject == station else {
                throw CLIError("the token speaks for \(claims.role) \(claims.subject), not station \(station)")
            }
            let store = try device.initialize(
                .init(server: server, token: token, role: claims.role, subject: claims.subject, station: station))
            print("initialized \(device.path): station \(station), replica \(store.replicaID), daemon \(server)")
        }
    }
}

/// `run` as a service: stays in sync until SIGTERM or SIGINT.
struct StationAgent: Service {
    let client: SyncClient
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await client.run { event in
                switch event {
                case .caughtUp(let report):
                    logger.info(
                        "in sync", metadata: ["sync.sent": "\(report.sent)", "sync.received": "\(report.received)"])
                case .received(let count, let summary) where count > 0:
                    logger.info(
                        "live changes",
                        metadata: ["sync.records": "\(count)", "sync.conflicts": "\(summary.conflicts)"])
                default:
                    break
                }
            }
        }
        logger.info("stopped")
    }
}

struct Run: AsyncParsableCommand, StationCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stay in sync with a live subscription; reconnect with backoff (cap 30 s); stop on SIGTERM.")
    @OptionGroup var local: StationHomeOption
    @ParentCommand var root: YongaiStation

    func run() async throws {
        try await running {
            let (settings, station) = try station()
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            var logger = Logger(label: "yongai-station")
            logger[metadataKey: "station"] = "\(station)"
            let client = try device.client(device.openStore(), settings, command: "yongai-station", logger: logger)
            let agent = StationAgent(client: client, logger: logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: agent)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

struct Checkin: AsyncParsableCommand, StationCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a rider's check-in at this station (works offline).")
    @OptionGroup var local: StationHomeOption
    @ParentCommand var root: YongaiStation

    @Option(help: "The rider's id.")
    var rider: String

    @Option(help: "rest, charge, meal or other.")
    var purpose = "rest"

    func run() async throws {
        try await running {
            let (_, station) = try station()
            let key = try device.checkIn(rider: rider, station: station, purpose: purpose, into: device.openStore())
            print("checked in \(rider) at \(station) (\(purpose)) as \(key)")
        }
    }
}

struct Set: AsyncParsableCommand, StationCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change this station's status, free chargers or meals left.")
    @OptionGroup var local: StationHomeOption
    @ParentCommand var root: YongaiStation

    @Option(help: "open, closed or full.")
    var status: String?

    @Option(help: "Free chargers now.")
    var freeChargers: Int?

    @Option(help: "Meals left now.")
    var mealsLeft: Int?

    func run() async throws {
        try await running {
            let (_, station) = try station()
            var values: [String: FieldValue] = [:]
            if let status { values["status"] = .text(status) }
            if let freeChargers { values["free_chargers"] = .integer(Int64(freeChargers)) }
            if let mealsLeft { values["meals_left"] = .integer(Int64(mealsLeft)) }
            guard !values.isEmpty else { throw CLIError("give --status, --free-chargers or --meals-left") }
            let store = try device.openStore()
            guard try store.record("stations", key: station).map({ !$0.isDeleted }) ?? false else {
                throw CLIError("station \(station) is not in the local store yet: run yongai-station sync first")
            }
            try store.write { try $0.put("stations", key: station, values) }
            print("\(station): " + values.keys.sorted().map { "\($0) = \(values[$0]!)" }.joined(separator: ", "))
        }
    }
}

struct Show: AsyncParsableCommand, StationCommand {
    static let configuration = CommandConfiguration(abstract: "This station as the local store holds it.")
    @OptionGroup var local: StationHomeOption
    @ParentCommand var root: YongaiStation

    @Flag(help: "Print one JSON line.")
    var json = false

    func run() async throws {
        try await running {
            let (_, station) = try station()
            var search = StationSearch()
            search.id = station
            guard let hit = try search.run(try device.openStore()).first else {
                throw CLIError("station \(station) is not in the local store yet: run yongai-station sync first")
            }
            print(json ? Output.json([hit]) : Output.table([hit]))
        }
    }
}

struct Status: AsyncParsableCommand, StationCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replica, daemon, pending changes, last sync, conflicts, refusals.")
    @OptionGroup var local: StationHomeOption
    @ParentCommand var root: YongaiStation

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        try await running {
            let (settings, _) = try station()
            print(try Output.status(try device.openStore(), settings: settings, json: json))
        }
    }
}

struct Sync: AsyncParsableCommand, StationCommand {
    static let configuration = CommandConfiguration(
        abstract: "One sync now. Exits 75 when the daemon cannot be reached.")
    @OptionGroup var local: StationHomeOption
    @OptionGroup var timeout: SyncTimeoutOption
    @ParentCommand var root: YongaiStation

    func run() async throws {
        try await running {
            let (settings, _) = try station()
            print(try await device.syncOnce(settings, command: "yongai-station", timeout: timeout.duration))
        }
    }
}
