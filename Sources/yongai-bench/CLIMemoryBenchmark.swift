import Foundation
import SyncServer
import SyncStore
import SyncTesting
import YongaiDomain

#if canImport(Glibc)
    import Glibc
#endif

/// `cli-memory`: the peak memory of the real `yongai` CLI during a rider's full initial sync
/// (every station and the rider's own check-ins), at a small and a large scope. A streaming sync holds one batch at a time, so its peak stays
/// flat as the record count grows; loading everything would grow with it.
struct CLIMemoryBenchmark {
    let sizes: [Int]

    func run() throws {
        let city = CityDataset()
        let rider = city.riders[0]
        var peaks: [(records: Int, kib: Int, seconds: Double)] = []
        for size in sizes {
            let directory = NSTemporaryDirectory() + "yongai-bench-climem-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let data = directory + "/daemon"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let seed = try SyncStore(.file(data + "/store.sqlite"), schema: YongaiCollections.schema)
            let stations = Array(city.stationRecords.prefix(size))
            try seed.write { try $0.put("stations", batch: stations) }
            // Every check-in is the rider's own, so its scope grows with the store.
            var chunk: [CityDataset.Record] = []
            for var checkin in city.checkins(first: max(0, size - stations.count)) {
                checkin.values["rider_id"] = .text(rider)
                chunk.append(checkin)
                if chunk.count == 10_000 {
                    try seed.write { try $0.put("checkins", batch: chunk) }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            try seed.write { try $0.put("checkins", batch: chunk) }
            try seed.close()
            let daemon = try DaemonProcess(dataDirectory: data)
            defer { daemon.process.terminate() }
            let token = try TokenAuthority.loadOrCreate(at: data + "/secret").issue(
                role: "rider", subject: rider, issuedAt: 0, expiresAt: .max)
            let home = directory + "/home"
            let yongai = try DaemonProcess.product("yongai")
            let initialized = try Self.spawn(
                yongai, ["init", "--home", home, "--server", "127.0.0.1:\(daemon.port)", "--token", token])
            guard initialized.status == 0 else { throw CLIMemoryError("yongai init exited \(initialized.status)") }
            let synced = try Self.spawn(yongai, ["sync", "--home", home])
            guard synced.status == 0 else { throw CLIMemoryError("yongai sync exited \(synced.status)") }
            let store = try SyncStore(.file(home + "/store.sqlite"), schema: YongaiCollections.schema)
            let held = try store.read { db in
                try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM stations) + (SELECT COUNT(*) FROM checkins)")
            }
            guard held == size else { throw CLIMemoryError("the CLI holds \(held ?? 0) of \(size) records") }
            peaks.append((size, synced.maximumResidentKiB, synced.seconds))
        }
        print(
            "cli-memory: peak resident memory of a rider's first `yongai sync` into a new home (every station and \(rider)'s check-ins)"
        )
        for peak in peaks {
            print(
                String(
                    format: "  %8d records: peak %7.1f MiB, %6.2f s (%.0f rec/s)", peak.records,
                    Double(peak.kib) / 1024, peak.seconds, Double(peak.records) / peak.seconds))
        }
        let growth = Double(peaks.last!.kib) / Double(peaks.first!.kib)
        let recordGrowth = Double(peaks.last!.records) / Double(peaks.first!.records)
        print(
            String(
                format:
                    "growth: %.2fx the memory for %.0fx the records   target: flat (streaming, not loading everything)",
                growth, recordGrowth))
        let fields = peaks.map { "\"mib_at_\($0.records)\":\(String(format: "%.1f", Double($0.kib) / 1024))" }
        print("{\"bench\":\"cli-memory\",\(fields.joined(separator: ",")),\"ratio\":\(String(format: "%.3f", growth))}")
    }

    struct CLIMemoryError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs `path` with `arguments` to completion (output discarded) and reports its exit
    /// status, peak resident memory (from `wait4`) and wall time.
    static func spawn(_ path: String, _ arguments: [String]) throws -> (
        status: Int32, maximumResidentKiB: Int, seconds: Double
    ) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let started = ContinuousClock.now
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw CLIMemoryError("cannot start \(path): error \(spawned)") }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw CLIMemoryError("lost \(path)") }
        let elapsed = ContinuousClock.now - started
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (
            exited, usage.ru_maxrss,
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        )
    }
}
