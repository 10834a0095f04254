import Foundation
import GRDB
import Logging
import ServiceLifecycle
import SyncClient
import SyncCore
import SyncServer
import SyncSession
import SyncStore
import SyncTesting
import YongaiDomain

/// An in-process daemon on a free loopback port, in a service group, with device stores.
final class DaemonFixture {
    let directory = TemporaryDirectory("e2e")
    private(set) var daemon: SyncDaemon?
    private var group: ServiceGroup?
    private var running: Task<Void, any Error>?
    private(set) var port = 0
    var devices: [String: (store: SyncStore, token: String)] = [:]

    init() {}

    deinit {
        running?.cancel()
        directory.remove()
    }

    var dataDirectory: String { directory.file("daemon") }

    /// Opens the daemon's store without serving (to seed it, or to inspect it while down).
    func openDaemonStore() throws -> SyncStore {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        return try SyncStore(
            .file(dataDirectory + "/store.sqlite"), schema: YongaiCollections.schema,
            options: .init(registersDots: true))
    }

    func start(
        port: Int = 0, maximumBatch: Int = 1_000, configure: (inout DaemonConfiguration) -> Void = { _ in }
    ) async throws {
        var configuration = DaemonConfiguration(
            dataDirectory: dataDirectory, port: port, maximumBatch: maximumBatch, pollInterval: .milliseconds(50))
        configure(&configuration)
        let daemon = try SyncDaemon(
            configuration: configuration,
            schema: YongaiCollections.schema, policy: YongaiAccessPolicy(), logger: Logger(label: "test.daemon"))
        let group = ServiceGroup(services: [daemon], logger: Logger(label: "test.group"))
        running = Task { try await group.run() }
        self.port = await daemon.listeningAddress().port ?? 0
        self.daemon = daemon
        self.group = group
    }

    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = await running?.result
        daemon = nil
        group = nil
        running = nil
    }

    /// A token signed by the daemon's secret, valid for `lifetime` ms from now (negative:
    /// expired that long ago).
    func token(_ role: String, _ subject: String, lifetime: Int64 = 86_400_000) throws -> String {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let authority = try TokenAuthority.loadOrCreate(at: dataDirectory + "/secret")
        let now = SystemClock().nowMillis()
        return authority.issue(role: role, subject: subject, issuedAt: now, expiresAt: now + lifetime)
    }

    @discardableResult
    func addDevice(_ name: String, role: String, subject: String) throws -> SyncStore {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let store = try SyncStore(.file(directory.file("\(name).sqlite")), schema: YongaiCollections.schema)
        devices[name] = (store, try token(role, subject))
        return store
    }

    func client(_ name: String, port: Int? = nil, batchSize: Int = 500) -> SyncClient {
        let device = devices[name]!
        return SyncClient(
            store: device.store,
            configuration: .init(
                host: "127.0.0.1", port: port ?? self.port, token: device.token, batchSize: batchSize,
                backoffCap: .milliseconds(200), backoffBase: .milliseconds(20)),
            logger: Logger(label: "test.client"))
    }

    @discardableResult
    func sync(_ name: String, batchSize: Int = 500) async throws -> ClientSession.SyncReport {
        try await client(name, batchSize: batchSize).sync()
    }
}

enum Samples {
    static func station(_ name: String, status: String = "open") -> [String: FieldValue] {
        [
            "kind": .text("charging"), "name": .text(name), "lat": .real(29.87), "lon": .real(121.55),
            "status": .text(status), "free_chargers": .integer(6),
        ]
    }

    static func checkin(rider: String, station: String) -> [String: FieldValue] {
        [
            "rider_id": .text(rider), "station_id": .text(station), "purpose": .text("charge"),
            "at": .integer(1_764_000_000_000), "device": .text("test"),
        ]
    }
}

extension SyncStore {
    func count(_ sql: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    func states(_ collection: String) throws -> [String: RecordState] {
        var result: [String: RecordState] = [:]
        for change in try changes(after: 0, limit: 1_000_000).changes where change.collection == collection {
            result[change.key] = change.state
        }
        return result
    }
}
