import Foundation
import Logging
import SyncClient
import SyncCore
import SyncServer
import SyncStore
import SyncTesting
import YongaiDomain

/// `reconnect-storm`: after an outage, every rest station's kiosk reconnects at once to a real
/// `yongai-syncd` process. Each kiosk holds 50 check-ins made offline and has 20 status edits
/// (made by the hotline during the outage) to pull. Measured: seconds until every kiosk has
/// converged, the daemon's peak memory, and errors. Targets: 0 errors, under 30 s, under 1 GiB.
struct ReconnectStormBenchmark {
    let devices: Int
    let checkins: Int
    let edits: Int
    let batch: Int

    func run() async throws {
        let directory = NSTemporaryDirectory() + "yongai-bench-storm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/daemon"
        let city = CityDataset()
        let stations = Array(city.stationRecords.prefix(devices))
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let seed = try SyncStore(.file(data + "/store.sqlite"), schema: YongaiCollections.schema)
        try seed.write { try $0.put("stations", batch: stations) }
        try seed.close()
        let daemon = try DaemonProcess(dataDirectory: data)
        let authority = try TokenAuthority.loadOrCreate(at: data + "/secret")
        var logger = Logger(label: "bench.storm")
        logger.logLevel = .critical
        func client(_ store: SyncStore, role: String, subject: String) -> SyncClient {
            SyncClient(
                store: store,
                configuration: .init(
                    host: "127.0.0.1", port: daemon.port,
                    token: authority.issue(role: role, subject: subject, issuedAt: 0), batchSize: batch,
                    connectTimeout: .seconds(30)),
                logger: logger)
        }

        // Before the outage every kiosk was in sync: provision each from one synced image.
        let image = try SyncStore(.inMemory, schema: YongaiCollections.schema)
        try await client(image, role: "station", subject: stations[0].key).sync()
        print("provisioning \(devices) kiosks, each with \(checkins) check-ins made offline…")
        var kiosks: [(station: String, store: SyncStore)] = []
        for (index, station) in stations.enumerated() {
            let store = try image.fork()
            try store.write { transaction in
                try transaction.put(
                    "checkins",
                    batch: (0..<checkins).map { number in
                        (
                            key: "ci-\(station.key)-\(number)",
                            values: [
                                "rider_id": .text(city.riders[(index * checkins + number) % city.riders.count]),
                                "station_id": .text(station.key), "purpose": .text("rest"),
                                "at": .integer(CityDataset.yearStart + Int64(number) * 60_000),
                                "device": .text("kiosk-\(station.key)"),
                            ]
                        )
                    })
            }
            kiosks.append((station.key, store))
        }
        // During the outage the hotline edited 20 stations' status.
        let hotline = try image.fork()
        var random = SplitMix64(seed: 3)
        var edited: [String: String] = [:]
        while edited.count < edits {
            let station = stations[Int(random.next() % UInt64(stations.count))].key
            edited[station] = ["closed", "full"][edited.count % 2]
        }
        try hotline.write { transaction in
            for (station, status) in edited { try transaction.put("stations", key: station, ["status": .text(status)]) }
        }
        try await client(hotline, role: "admin", subject: "hotline").sync()
        let baselineMemory = Self.peakMemory(of: daemon.process.processIdentifier)

        print("the outage ends: \(devices) kiosks reconnect at once…")
        let started = ContinuousClock.now
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for kiosk in kiosks {
                let syncClient = client(kiosk.store, role: "station", subject: kiosk.station)
                group.addTask {
                    var failures = 0
                    while true {
                        do {
                            try await syncClient.sync()
                            return failures
                        } catch {
                            failures += 1
                            if failures > 5 { throw error }
                            try await Task.sleep(for: .milliseconds(200 * failures))
                        }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let peak = Self.peakMemory(of: daemon.process.processIdentifier)

        // Converged: the daemon holds every check-in once; every kiosk has nothing pending and
        // sees every edit.
        let daemonView = try SyncStore(.file(data + "/store.sqlite"), schema: YongaiCollections.schema)
        let held = try daemonView.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins") } ?? 0
        try daemonView.close()
        var unconverged = 0
        for kiosk in kiosks {
            let pending = try kiosk.store.changeCount(after: kiosk.store.cursor(named: "daemon.push"))
            let statuses = try kiosk.store.read { db in
                try String.fetchAll(
                    db,
                    sql:
                        "SELECT status FROM stations WHERE id IN (\(edited.keys.map { "'\($0)'" }.joined(separator: ",")))"
                        + " ORDER BY id")
            }
            if pending != 0 || statuses != edited.keys.sorted().map({ edited[$0]! }) { unconverged += 1 }
        }
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        print(
            "reconnect-storm: \(devices) kiosks at once, each pushing \(checkins) check-ins and pulling \(edits) status edits, against a yongai-syncd process"
        )
        print(String(format: "  all converged after          %8.2f s        target: under 30 s", seconds))
        print(
            String(
                format: "  daemon peak memory           %8.1f MiB      target: under 1 GiB (%.1f MiB before the storm)",
                Double(peak) / 1024, Double(baselineMemory) / 1024))
        print("  failed syncs (retried)       \(String(format: "%8d", failures))          target: 0")
        print("  check-ins held by the daemon \(String(format: "%8d", held)) of \(devices * checkins)")
        print("  kiosks not converged         \(String(format: "%8d", unconverged))")
        print("  daemon exit status on SIGTERM \(daemon.process.terminationStatus)")
        print(
            "{\"bench\":\"reconnect-storm\",\"devices\":\(devices),\"seconds\":\(String(format: "%.2f", seconds)),\"daemon_peak_mib\":\(String(format: "%.1f", Double(peak) / 1024)),\"errors\":\(failures),\"unconverged\":\(unconverged),\"checkins_held\":\(held)}"
        )
    }

    /// The peak resident memory of a running process, in KiB (`VmHWM`).
    static func peakMemory(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
            ?? 0
    }
}
