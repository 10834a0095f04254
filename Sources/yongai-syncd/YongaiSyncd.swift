import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SyncCore
import SyncServer
import SyncStore
import YongaiDomain

/// The Yong'ai sync daemon: serves the embedded SQLite store over the line protocol, issues
/// tokens, imports the station registry.
@main
struct YongaiSyncd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yongai-syncd",
        abstract: "The Yong'ai sync daemon.",
        subcommands: [Serve.self, Token.self, Revoke.self, ImportStations.self],
        defaultSubcommand: Serve.self)
}

struct DataOption: ParsableArguments {
    @Option(
        name: .customLong("data"),
        help: "The daemon's data directory: its store, token secret and revocations (created when missing).")
    var directory = "./yongai-data"
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve sync connections (the default).")

    @OptionGroup var data: DataOption

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0 picks a free one and prints it).")
    var port = 7420

    @Option(help: "The longest line accepted, in bytes.")
    var maxLine = 1 << 20

    @Option(help: "The most records in one push or pull batch.")
    var maxBatch = 1_000

    @Option(
        help: ArgumentHelp(
            "How far ahead of this daemon's clock a pushed write may be stamped, in seconds.",
            discussion: "A record carrying a later write is refused (clock_ahead); its device stamps it again."))
    var maxClockAhead = 900

    @Option(help: "Seconds a new connection may take to say hello.")
    var helloTimeout = 10.0

    @Option(help: "Seconds a greeted connection may stay without a request (clients ping within it).")
    var idleTimeout = 120.0

    @Option(help: "Seconds one line may take to arrive once begun.")
    var lineTimeout = 30.0

    @Option(help: "The most connections open at once.")
    var maxConnections = 1_000

    @Option(help: "The most connections open at once for one role and subject.")
    var maxConnectionsPerPrincipal = 16

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        for (name, value) in [("hello", helloTimeout), ("idle", idleTimeout), ("line", lineTimeout)] {
            guard value >= 0.05, value <= 86_400 else {
                throw ValidationError("--\(name)-timeout must be 0.05-86400 seconds")
            }
        }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard maxConnectionsPerPrincipal >= 1 else {
            throw ValidationError("--max-connections-per-principal must be at least 1")
        }
        guard maxLine >= 1_024 else { throw ValidationError("--max-line must be at least 1024") }
        guard (1...100_000).contains(maxBatch) else { throw ValidationError("--max-batch must be 1-100000") }
        guard (1...86_400).contains(maxClockAhead) else { throw ValidationError("--max-clock-ahead must be 1-86400") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "yongai-syncd")
        let daemon: SyncDaemon
        var configuration = DaemonConfiguration(
            dataDirectory: data.directory, host: host, port: port, maximumLine: maxLine, maximumBatch: maxBatch,
            helloTimeout: .milliseconds(Int64(helloTimeout * 1_000)),
            idleTimeout: .milliseconds(Int64(idleTimeout * 1_000)),
            lineTimeout: .milliseconds(Int64(lineTimeout * 1_000)), maximumConnections: maxConnections,
            maximumConnectionsPerPrincipal: maxConnectionsPerPrincipal)
        configuration.maximumClockAhead = Int64(maxClockAhead) * 1_000
        do {
            daemon = try SyncDaemon(
                configuration: configuration,
                schema: YongaiCollections.schema, policy: YongaiAccessPolicy(), logger: logger)
        } catch {
            throw CleanExit.message("yongai-syncd: cannot open \(data.directory): \(error)")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        async let announced: Void = {
            let address = await daemon.listeningAddress()
            // Written straight to the descriptor: whoever started the daemon sees it at once.
            FileHandle.standardOutput.write(Data("yongai-syncd listening on \(host):\(address.port ?? port)\n".utf8))
        }()
        try await group.run()
        await announced
    }
}

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a signed token for a role and subject.")

    @OptionGroup var data: DataOption

    @Option(help: "rider, station, staff or admin.")
    var role: YongaiAccessPolicy.Role

    @Option(help: "Whom the token acts for: a rider id, a station id, a staff name.")
    var subject: String

    @Option(
        help: """
            How long the token is valid: a count and m, h or d (30m, 12h, 90d; at most 5 years). \
            Default by role: rider 90d, station 365d, staff 30d, admin 7d.
            """)
    var expires: TokenLifetime?

    func validate() throws {
        guard !subject.isEmpty, !subject.contains(where: \.isNewline) else {
            throw ValidationError("--subject must be a non-empty single line")
        }
    }

    func run() throws {
        let secret = DaemonConfiguration(dataDirectory: data.directory).secretPath
        if !FileManager.default.fileExists(atPath: secret) {
            FileHandle.standardError.write(
                Data(
                    "yongai-syncd: \(data.directory) held no token secret; made a new one (a daemon serving another --data refuses this token)\n"
                        .utf8))
        }
        try FileManager.default.createDirectory(atPath: data.directory, withIntermediateDirectories: true)
        let authority = try TokenAuthority.loadOrCreate(at: secret)
        let lifetime = expires ?? TokenLifetime(role.defaultTokenLifetime)!
        let now = SystemClock().nowMillis()
        print(
            authority.issue(
                role: role.rawValue, subject: subject, issuedAt: now, expiresAt: now + lifetime.milliseconds))
    }
}

struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke every token of a subject issued until now; a running daemon closes their connections.")

    @OptionGroup var data: DataOption

    @Option(help: "Whose tokens to revoke: a rider id, a station id, a staff name.")
    var subject: String

    @Option(help: "Only tokens of this role (default: every role).")
    var role: YongaiAccessPolicy.Role?

    func validate() throws {
        guard !subject.isEmpty, !subject.contains(where: \.isNewline) else {
            throw ValidationError("--subject must be a non-empty single line")
        }
    }

    func run() throws {
        let configuration = DaemonConfiguration(dataDirectory: data.directory)
        guard FileManager.default.fileExists(atPath: configuration.secretPath) else {
            // Revoking where no daemon keeps its data would quietly revoke nothing.
            FileHandle.standardError.write(
                Data(
                    "yongai-syncd: \(data.directory) holds no daemon data (no token secret): pass the daemon's --data\n"
                        .utf8))
            throw ExitCode(1)
        }
        // Tokens issued from the next millisecond on are valid again.
        let before = SystemClock().nowMillis() + 1
        try RevocationList.add(
            Revocation(subject: subject, role: role?.rawValue, before: before),
            at: configuration.revocationsPath)
        print("revoked the tokens of \(role.map { "\($0.rawValue) " } ?? "")\(subject) issued until now")
    }
}

extension YongaiAccessPolicy.Role: ExpressibleByArgument {}

extension TokenLifetime: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(argument)
    }
}

struct ImportStations: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-stations", abstract: "Load the station registry from CSV, as admin writes.")

    @OptionGroup var data: DataOption

    @Argument(help: "The CSV file: a header with id and station fields, one station per line.")
    var file: String

    func run() throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("cannot read \(file) as UTF-8 text")
        }
        let rows: [StationCSV.Row]
        do {
            rows = try StationCSV.parse(text)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        try FileManager.default.createDirectory(atPath: data.directory, withIntermediateDirectories: true)
        let store = try SyncStore(
            .file(data.directory + "/store.sqlite"), schema: YongaiCollections.schema,
            options: .init(registersDots: true))
        var imported = 0
        for start in stride(from: 0, to: rows.count, by: 1_000) {
            let batch = rows[start..<min(start + 1_000, rows.count)]
            do {
                try store.write { transaction in
                    try transaction.put("stations", batch: batch.map { (key: $0.key, values: $0.values) })
                }
            } catch let error as StoreError {
                throw ValidationError("\(file): \(error.message); nothing after station \(imported) was imported")
            }
            imported += batch.count
        }
        print("imported \(imported) stations into \(data.directory)")
    }
}
