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
/// The baseline: the same kiosks reconnecting one at a time, on a fresh daemon.
struct ReconnectStormBenchmark {
    let devices: Int
    let checkins: Int
    let edits: Int
    let batch: Int

    /// What one reconnection of every kiosk gave.
    struct Outcome {
        var seconds: Double
        var peakKiB: Int
        var baselineKiB: Int
        var failures: Int
        var held: Int
        var unconverged: Int
        var exitStatus: Int32
    }

    /// The outage and the reconnection, on a fresh daemon: every kiosk at once, or one after
    /// another.
    func scenario(concurrent: Bool) async throws -> Outcome {
        let directory = NSTemporaryDirectory() + "yongai-bench-storm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = directory + "/daemon"
        let city = CityDataset()
        let stations = Array(city.stationRecords.prefix(devices))
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let seed = try SyncStore(.file(data + "/store.sqlite"), schema: YongaiCollections.schema)
        try seed.write { try $0.put("stations", batch: stations) }
        try seed.close()
        // Every kiosk at once, whatever the cap a production daemon keeps.
        let daemon = try DaemonProcess(
            dataDirectory: data, arguments: ["--max-connections", "\(max(1_000, 2 * devices))"])
        let authority = try TokenAuthority.loadOrCreate(at: data + "/secret")
        var logger = Logger(label: "bench.storm")
        logger.logLevel = .critical
        func client(_ store: SyncStore, role: String, subject: String) -> SyncClient {
            SyncClient(
                store: store,
                configuration: .init(
                    host: "127.0.0.1", port: daemon.port,
                    token: authority.issue(role: role, subject: subject, issuedAt: 0, expiresAt: .max),
                    batchSize: batch,
                    connectTimeout: .seconds(30)),
                logger: logger)
        }

        // Before the outage every kiosk was in sync: provision each from one synced image.
        let image = try SyncStore(.inMemory, schema: YongaiCollections.schema)
        try await client(image, role: "station", subject: stations[0].key).sync()
        print(
            "provisioning \(devices) kiosks, each with \(checkins) check-ins made offline, to reconnect \(concurrent ? "at once" : "one at a time")…"
        )
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

        let started = ContinuousClock.now
        var failures = 0
        if concurrent {
            failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for kiosk in kiosks {
                    let syncClient = client(kiosk.store, role: "station", subject: kiosk.station)
                    group.addTask { try await Self.syncRetrying(syncClient) }
                }
                return try await group.reduce(0, +)
            }
        } else {
            for kiosk in kiosks {
                failures += try await Self.syncRetrying(client(kiosk.store, role: "station", subject: kiosk.station))
            }
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
        return Outcome(
            seconds: seconds, peakKiB: peak, baselineKiB: baselineMemory, failures: failures, held: held,
            unconverged: unconverged, exitStatus: daemon.process.terminationStatus)
    }

    func run() async throws {
        let alone = try await scenario(concurrent: false)
        let storm = try await scenario(concurrent: true)
        let mib = { (kib: Int) in String(format: "%.1f", Double(kib) / 1024) }
        print(
            "reconnect-storm: \(devices) kiosks, each pushing \(checkins) check-ins and pulling \(edits) status edits, against a yongai-syncd process"
        )
        print("                                   all at once     one at a time (baseline)")
        print(
            String(
                format: "  converged after              %8.2f s      %8.2f s        target: under 30 s", storm.seconds,
                alone.seconds))
        print(
            "  daemon peak memory           \(mib(storm.peakKiB).leftPadded(8)) MiB    \(mib(alone.peakKiB).leftPadded(8)) MiB      target: under 1 GiB (\(mib(storm.baselineKiB)) MiB before)"
        )
        print(
            "  failed syncs (retried)       \(String(storm.failures).leftPadded(8))        \(String(alone.failures).leftPadded(8))          target: 0"
        )
        print(
            "  check-ins held by the daemon \(String(storm.held).leftPadded(8))        \(String(alone.held).leftPadded(8))          of \(devices * checkins)"
        )
        print(
            "  kiosks not converged         \(String(storm.unconverged).leftPadded(8))        \(String(alone.unconverged).leftPadded(8))"
        )
        print("  daemon exit status on SIGTERM \(storm.exitStatus)               \(alone.exitStatus)")
        print(String(format: "ratio (all at once / one at a time): %.2f", storm.seconds / alone.seconds))
        print(
            "{\"bench\":\"reconnect-storm\",\"devices\":\(devices),\"seconds\":\(String(format: "%.2f", storm.seconds)),\"baseline_seconds\":\(String(format: "%.2f", alone.seconds)),\"ratio\":\(String(format: "%.3f", storm.seconds / alone.seconds)),\"daemon_peak_mib\":\(mib(storm.peakKiB)),\"errors\":\(storm.failures),\"unconverged\":\(storm.unconverged),\"checkins_held\":\(storm.held)}"
        )
    }

    /// One kiosk's sync, retried after a failure (up to 5 times); returns the failures.
    static func syncRetrying(_ client: SyncClient) async throws -> Int {
        var failures = 0
        while true {
            do {
                try await client.sync()
                return failures
            } catch {
                failures += 1
                if failures > 5 { throw error }
                try await Task.sleep(for: .milliseconds(200 * failures))
            }
        }
    }

    /// The peak resident memory of a running process, in KiB (`VmHWM`).
    static func peakMemory(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
            ?? 0
    }
}

extension String {
    /// The string right-aligned in `width` columns.
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
