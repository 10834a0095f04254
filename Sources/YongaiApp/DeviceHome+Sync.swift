import Logging
import SyncClient
import SyncCore
import SyncSession
import SyncStore

extension DeviceHome {
    /// A client for the daemon in `settings`, syncing `store`, giving up on a daemon that
    /// does not answer a request within `timeout`.
    public func client(
        _ store: SyncStore, _ settings: Settings, command: String, timeout: Duration = .seconds(30), logger: Logger
    ) throws -> SyncClient {
        guard let address = ClientConfiguration.address(settings.server) else {
            throw CLIError("bad server address in the settings: run \(command) init again")
        }
        return SyncClient(
            store: store,
            configuration: .init(host: address.host, port: address.port, token: settings.token, readTimeout: timeout),
            logger: logger)
    }

    /// Daemon refusals that pass: the sync may go through later (exit 75).
    static let temporaryRefusals: Set<String> = ["busy", "shutting_down", "timeout", SessionError.noAnswer]

    /// One sync now, as a person reads it: the summary line, or one line saying why not
    /// (exit 75 when the daemon cannot be reached; nothing local changes either way).
    public func syncOnce(
        _ settings: Settings, command: String, timeout: Duration = .seconds(30),
        onEvent: @escaping @Sendable (ClientSession.Event) -> Void = { _ in }
    ) async throws -> String {
        let store = try openStore()
        var logger = Logger(label: command)
        logger.logLevel = .warning
        let report: ClientSession.SyncReport
        do {
            report = try await client(store, settings, command: command, timeout: timeout, logger: logger).sync(
                onEvent: onEvent)
        } catch let error as SessionError where error.code == SessionError.noAnswer {
            throw CLIError(error.message, exitCode: 75)
        } catch let error as SessionError where Self.temporaryRefusals.contains(error.code) {
            throw CLIError("the daemon at \(settings.server) cannot sync now: \(error.message)", exitCode: 75)
        } catch let error as SessionError where SyncClient.tokenRefusals.contains(error.code) {
            throw CLIError(
                "the daemon refused the sync: \(error.message); ask for a new token and run \(command) init again")
        } catch let error as SessionError {
            throw CLIError("the daemon refused the sync: \(error.message)")
        } catch let error as CLIError {
            throw error
        } catch {
            let pending = try store.changeCount(after: store.cursor(named: "daemon.push"))
            throw CLIError(
                "cannot reach the daemon at \(settings.server); \(pending) changes wait to be sent, nothing local changed",
                exitCode: 75)
        }
        return
            "synced with \(settings.server): sent \(report.sent), received \(report.received), conflicts \(report.conflicts), refused \(report.refused)"
    }

    /// Records a check-in (works offline) and returns its key.
    public func checkIn(rider: String, station: String, purpose: String, into store: SyncStore) throws -> String {
        // By the daemon's clock, as the store stamps writes (a device's own clock may be off).
        let now = try store.clockNowMillis()
        let key = "ci-\(store.replicaID)-\(now)"
        try store.write { transaction in
            try transaction.put(
                "checkins", key: key,
                [
                    "rider_id": .text(rider), "station_id": .text(station), "purpose": .text(purpose),
                    "at": .integer(now), "device": .text(store.replicaID.rawValue),
                ])
        }
        return key
    }
}

extension CLIError {
    /// Any error as one line for people, and the exit code to leave with.
    public static func line(for error: any Error) -> (message: String, code: Int32) {
        switch error {
        case let error as CLIError: (error.description, error.exitCode)
        case let error as StoreError: (error.message, 1)
        case let error as SessionError: (error.message, 1)
        default: ("\(error)", 1)
        }
    }
}
