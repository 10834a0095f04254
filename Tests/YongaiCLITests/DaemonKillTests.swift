import Foundation
import GRDB
import SyncStore
import SyncTesting
import Testing
import YongaiDomain

/// The daemon killed with SIGKILL in the middle of a station's sync, then restarted: the next
/// sync leaves every check-in at the daemon exactly once.
@Suite struct DaemonKillTests {
    @Test func aDaemonKilledMidSyncLosesAndDuplicatesNothing() throws {
        let directory = TemporaryDirectory("kill")
        defer { directory.remove() }
        let data = directory.file("daemon")
        let kiosk = directory.file("kiosk")
        try DaemonProcess.command(["import-stations", "--data", data, RiderCLITests.stations])
        var daemon = try DaemonProcess(dataDirectory: data)
        let token = try daemon.token(role: "station", subject: "st-003")
        func initKiosk() throws {
            #expect(
                try StationCLITests.station([
                    "--home", kiosk, "init", "--station", "st-003", "--server", "127.0.0.1:\(daemon.port)", "--token",
                    token,
                ]).status == 0)
        }
        try initKiosk()
        // A day of check-ins recorded while offline.
        let store = try SyncStore(.file(kiosk + "/store.sqlite"), schema: YongaiCollections.schema)
        try store.write { transaction in
            for index in 0..<3_000 {
                try transaction.put(
                    "checkins", key: "k-\(index)",
                    [
                        "rider_id": .text("r-\(index % 40)"), "station_id": .text("st-003"), "purpose": .text("meal"),
                        "at": .integer(1_764_000_000_000 + Int64(index)), "device": .text("kiosk"),
                    ])
            }
        }
        try store.close()

        let sync = Process()
        sync.executableURL = URL(fileURLWithPath: try DaemonProcess.product("yongai-station"))
        sync.arguments = ["--home", kiosk, "sync"]
        sync.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        sync.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try sync.run()
        usleep(200_000)  // about one push batch in
        daemon.stop(signal: SIGKILL)
        sync.waitUntilExit()
        let landedBeforeKill = try DatabaseQueue(path: data + "/store.sqlite").read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins") ?? 0
        }
        print("killed mid-sync: first sync exited \(sync.terminationStatus), \(landedBeforeKill) of 3000 landed")

        daemon = try DaemonProcess(dataDirectory: data)
        try initKiosk()
        let resync = try StationCLITests.station(["--home", kiosk, "sync"])
        #expect(resync.status == 0, "\(resync.error)")
        #expect(daemon.stop() == 0)
        let counts = try DatabaseQueue(path: data + "/store.sqlite").read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT id) FROM checkins") ?? 0,
                try String.fetchAll(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(counts.0 == 3_000 && counts.1 == 3_000)
        #expect(counts.2 == ["ok"])
    }
}
