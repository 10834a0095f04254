import Foundation
import GRDB
import SyncProtocol
import SyncTesting
import Testing

/// Two kiosks at one station and two riders work while the daemon is down; once it is back,
/// everyone converges, the concurrent status edit is listed on every device, and one resolve
/// clears it everywhere.
@Suite struct NetworkCLITests {
    @Test func devicesConvergeAndOneResolveClearsTheConflictEverywhere() throws {
        let directory = TemporaryDirectory("network-cli")
        defer { directory.remove() }
        let data = directory.file("daemon")
        try DaemonProcess.command(["import-stations", "--data", data, RiderCLITests.stations])
        var daemon = try DaemonProcess(dataDirectory: data)
        let kiosks = ["kiosk-1", "kiosk-2"].map { directory.file($0) }
        let riders = [("r-1", directory.file("rider-1")), ("r-2", directory.file("rider-2"))]
        let admin = directory.file("admin")
        let stationToken = try daemon.token(role: "station", subject: "st-001")

        func initAll() throws {
            let server = "127.0.0.1:\(daemon.port)"
            for kiosk in kiosks {
                #expect(
                    try StationCLITests.station([
                        "--home", kiosk, "init", "--station", "st-001", "--server", server, "--token", stationToken,
                    ]).status == 0)
            }
            for (subject, home) in riders {
                #expect(
                    try RiderCLITests.yongai([
                        "--home", home, "init", "--server", server, "--token",
                        daemon.token(role: "rider", subject: subject),
                    ]).status == 0)
            }
            #expect(
                try RiderCLITests.yongai([
                    "--home", admin, "init", "--server", server, "--token", daemon.token(role: "admin", subject: "ops"),
                ]).status == 0)
        }
        func syncAll() throws {
            for _ in 0..<2 {
                for kiosk in kiosks { #expect(try StationCLITests.station(["--home", kiosk, "sync"]).status == 0) }
                for home in riders.map(\.1) + [admin] {
                    #expect(try RiderCLITests.yongai(["--home", home, "sync"]).status == 0)
                }
            }
        }
        func conflicts(_ home: String) throws -> [JSONValue] {
            try RiderCLITests.yongai(["--home", home, "conflicts", "--json"]).output.split(separator: "\n")
                .map { try JSONParser.parse(String($0)) }
        }

        try initAll()
        try syncAll()
        #expect(daemon.stop() == 0)

        // The daemon is down: everyone works offline.
        #expect(try StationCLITests.station(["--home", kiosks[0], "set", "--status", "full"]).status == 0)
        #expect(try StationCLITests.station(["--home", kiosks[1], "set", "--status", "closed"]).status == 0)
        #expect(try StationCLITests.station(["--home", kiosks[0], "checkin", "--rider", "r-1"]).status == 0)
        #expect(try RiderCLITests.yongai(["--home", riders[0].1, "checkin", "st-001"]).status == 0)
        #expect(
            try RiderCLITests.yongai(["--home", riders[1].1, "checkin", "st-002", "--purpose", "charge"]).status == 0)

        daemon = try DaemonProcess(dataDirectory: data)
        try initAll()
        try syncAll()
        let everyone = kiosks + riders.map(\.1) + [admin]
        for home in everyone {
            let listed = try conflicts(home)
            #expect(listed.count == 1, "\(home)")
            #expect(listed.first?["key"] == .string("st-001") && listed.first?["field"] == .string("status"), "\(home)")
        }
        let stationViews = try everyone.map {
            try RiderCLITests.yongai(["--home", $0, "stations", "--json", "--limit", "1"]).output
        }
        #expect(Set(stationViews).count == 1, "everyone sees the same st-001")

        #expect(
            try RiderCLITests.yongai(["--home", admin, "resolve", "stations", "st-001", "status", "open"]).status == 0)
        try syncAll()
        for home in everyone {
            #expect(try conflicts(home).isEmpty, "\(home)")
        }
        #expect(daemon.stop() == 0)
        let store = try DatabaseQueue(path: data + "/store.sqlite")
        let (checkins, status) = try store.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins") ?? 0,
                try String.fetchOne(db, sql: "SELECT status FROM stations WHERE id = 'st-001'")
            )
        }
        #expect(checkins == 3)
        #expect(status == "open")
    }
}
