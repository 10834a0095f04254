import Foundation
import GRDB
import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import SyncTesting
import YongaiDomain

/// A daemon store and devices, synced through sessions in memory.
final class Network {
    let directory = TemporaryDirectory("network")
    var daemonStore: SyncStore
    var epoch: String
    var devices: [String: Device] = [:]
    let daemonClock = ManualClock(millis: 1_764_000_000_000)

    struct Device {
        let store: SyncStore
        let token: String
        let clock: ManualClock
    }

    init() throws {
        daemonStore = try SyncStore(
            .file(directory.file("daemon.sqlite")), schema: YongaiCollections.schema, clock: daemonClock,
            options: .init(registersDots: true))
        epoch = try daemonStore.startEpoch()
    }

    deinit {
        directory.remove()
    }

    @discardableResult
    func addDevice(_ name: String, token: String, skew: Int64 = 0) throws -> SyncStore {
        let clock = ManualClock(millis: 1_764_000_000_000 + skew)
        let store = try SyncStore(
            .file(directory.file("\(name).sqlite")), schema: YongaiCollections.schema, clock: clock)
        devices[name] = Device(store: store, token: token, clock: clock)
        return store
    }

    func store(_ name: String) -> SyncStore { devices[name]!.store }

    /// Where devices `names` differ from the daemon on `records` ("collection/key"), and the
    /// refusals they keep flagged: empty when every one holds each record as the daemon does.
    func disagreements(_ names: [String], on records: [String]) throws -> [String] {
        var found: [String] = []
        for name in names {
            for path in records {
                let parts = path.split(separator: "/").map(String.init)
                if try store(name).record(parts[0], key: parts[1]) != daemonStore.record(parts[0], key: parts[1]) {
                    found.append("\(name) holds \(path) otherwise")
                }
            }
            found += try store(name).refusals().map { "\(name) flags \($0.collection)/\($0.key): \($0.code)" }
        }
        return found
    }

    /// A copy of device `name`'s store (a cloned disk image: the same replica id) that syncs
    /// as device `copyName` with the same token.
    @discardableResult
    func addCopy(of name: String, as copyName: String = "clone", clock: ManualClock = ManualClock()) throws
        -> SyncStore
    {
        let source = devices[name]!
        let copy = try source.store.copy(clock: clock)
        devices[copyName] = Device(store: copy, token: source.token, clock: clock)
        return copy
    }

    func daemonSession(maximumLine: Int = ProtocolLimits.defaultMaximumLine) -> DaemonSession {
        DaemonSession(
            store: daemonStore, policy: YongaiAccessPolicy(), authenticator: PlainTokens(),
            configuration: .init(epoch: epoch, maximumLine: maximumLine, maximumBatch: 50))
    }

    @discardableResult
    func sync(
        _ name: String, batchSize: Int = 3, cutAfterReplies cut: Int? = nil,
        maximumLine: Int = ProtocolLimits.defaultMaximumLine
    ) throws -> SessionPump.Outcome {
        let device = devices[name]!
        let client = ClientSession(store: device.store, configuration: .init(token: device.token, batchSize: batchSize))
        return try SessionPump.sync(
            client: client, daemon: daemonSession(maximumLine: maximumLine), cutAfterReplies: cut,
            maximumLine: maximumLine)
    }

    func syncAll(rounds: Int = 2) throws {
        for _ in 0..<rounds {
            for name in devices.keys.sorted() { try sync(name) }
        }
    }

    /// Restarts the daemon on a copy of its files taken earlier (a restored backup).
    func restoreDaemon(from backup: String) throws {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: directory.file("daemon.sqlite") + suffix)
            if FileManager.default.fileExists(atPath: backup + suffix) {
                try FileManager.default.copyItem(
                    atPath: backup + suffix, toPath: directory.file("daemon.sqlite") + suffix)
            }
        }
        daemonStore = try SyncStore(
            .file(directory.file("daemon.sqlite")), schema: YongaiCollections.schema, clock: daemonClock,
            options: .init(registersDots: true))
        epoch = try daemonStore.startEpoch()
    }

    func backupDaemon() throws -> String {
        let path = directory.file("backup-\(UUID().uuidString).sqlite")
        try daemonStore.read { db in _ = db }
        for suffix in ["", "-wal"]
        where FileManager.default.fileExists(atPath: directory.file("daemon.sqlite") + suffix) {
            try FileManager.default.copyItem(atPath: directory.file("daemon.sqlite") + suffix, toPath: path + suffix)
        }
        return path
    }
}

extension SyncStore {
    /// Every record's collection, key and state, in a canonical order.
    func snapshot(_ collections: [String] = ["stations", "checkins", "appeals"]) throws -> [String: RecordState] {
        var result: [String: RecordState] = [:]
        for change in try changes(after: 0, limit: 1_000_000).changes where collections.contains(change.collection) {
            result["\(change.collection)/\(change.key)"] = change.state
        }
        return result
    }

    /// Every record's fields with their sibling values (sorted), without replica ids: what
    /// two runs with different replica ids can compare.
    func visibleSnapshot() throws -> [String: [String: [String]]] {
        try snapshot().mapValues { state in
            Dictionary(
                uniqueKeysWithValues: state.fields.map { ($0.name, $0.register.values.map { "\($0.value)" }.sorted()) })
        }
    }

    func count(_ sql: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }
}

enum Samples {
    static func station(_ name: String, status: String = "open") -> [String: FieldValue] {
        [
            "kind": .text("charging"), "name": .text(name), "lat": .real(29.87), "lon": .real(121.55),
            "status": .text(status), "free_chargers": .integer(6),
        ]
    }

    static func checkin(rider: String, station: String, device: String = "phone") -> [String: FieldValue] {
        [
            "rider_id": .text(rider), "station_id": .text(station), "purpose": .text("charge"),
            "at": .integer(1_764_000_000_000), "device": .text(device),
        ]
    }
}
