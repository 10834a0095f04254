import Foundation
import SyncProtocol
import SyncTesting
import Testing

/// The `yongai-station` binary beside a running agent, against the real daemon binary.
@Suite struct StationCLITests {
    static func station(_ arguments: [String]) throws -> DaemonProcess.Run {
        try DaemonProcess.run("yongai-station", arguments)
    }

    @Test func kioskCommandsWorkBesideARunningAgentWhichSyncsThem() throws {
        let directory = TemporaryDirectory("station")
        defer { directory.remove() }
        let data = directory.file("daemon")
        let home = directory.file("kiosk")
        try DaemonProcess.command(["import-stations", "--data", data, RiderCLITests.stations])
        let daemon = try DaemonProcess(dataDirectory: data)
        let token = try daemon.token(role: "station", subject: "st-002")
        let wrong = try Self.station([
            "--home", home, "init", "--station", "st-001", "--server", "127.0.0.1:\(daemon.port)", "--token", token,
        ])
        #expect(
            wrong.status == 1
                && wrong.error == "yongai-station: the token speaks for station st-002, not station st-001\n")
        #expect(
            try Self.station([
                "--home", home, "init", "--station", "st-002", "--server", "127.0.0.1:\(daemon.port)", "--token", token,
            ]).status == 0)

        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: try DaemonProcess.product("yongai-station"))
        agent.arguments = ["--home", home, "run"]
        agent.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try agent.run()
        // The agent's first sync brings the station down; then the kiosk edits it.
        var ready = false
        for _ in 0..<100 where !ready {
            ready = try Self.station(["--home", home, "show"]).status == 0
            if !ready { usleep(100_000) }
        }
        #expect(ready)
        #expect(try Self.station(["--home", home, "set", "--status", "full", "--free-chargers", "0"]).status == 0)
        #expect(try Self.station(["--home", home, "checkin", "--rider", "r-7", "--purpose", "charge"]).status == 0)
        // The running agent pushes them without being asked.
        var pending: JSONValue?
        for _ in 0..<100 where pending != .integer(0) {
            usleep(100_000)
            pending = try JSONParser.parse(try Self.station(["--home", home, "status", "--json"]).output)["pending"]
        }
        #expect(pending == .integer(0))
        kill(agent.processIdentifier, SIGTERM)
        agent.waitUntilExit()
        #expect(agent.terminationStatus == 0)

        // A rider sees the station's new state from the daemon.
        let rider = directory.file("rider")
        #expect(
            try RiderCLITests.yongai([
                "--home", rider, "init", "--server", "127.0.0.1:\(daemon.port)", "--token",
                daemon.token(role: "rider", subject: "r-7"),
            ]).status == 0)
        #expect(try RiderCLITests.yongai(["--home", rider, "sync"]).status == 0)
        let seen = try JSONParser.parse(
            try RiderCLITests.yongai(["--home", rider, "stations", "--kind", "charging", "--json"]).output.split(
                separator: "\n"
            ).first.map(String.init) ?? "")
        #expect(
            seen["id"] == .string("st-002") && seen["status"] == .string("full") && seen["free_chargers"] == .integer(0)
        )
        let checkins = try RiderCLITests.yongai(["--home", rider, "checkins", "--json"]).output.split(separator: "\n")
        #expect(checkins.count == 1)
        #expect(daemon.stop() == 0)
    }

    /// A kiosk agent whose token was revoked stops with one line and a non-zero exit, instead
    /// of reconnecting for ever: no wait makes a revoked token pass.
    @Test func anAgentWithARevokedTokenStopsWithOneLine() throws {
        let directory = TemporaryDirectory("revoked-agent")
        defer { directory.remove() }
        let data = directory.file("daemon")
        let kiosk = directory.file("kiosk")
        try DaemonProcess.command(["import-stations", "--data", data, RiderCLITests.stations])
        let daemon = try DaemonProcess(dataDirectory: data)
        let token = try daemon.token(role: "station", subject: "st-003")
        let initialized = try Self.station([
            "--home", kiosk, "init", "--station", "st-003", "--server", "127.0.0.1:\(daemon.port)", "--token", token,
        ])
        #expect(initialized.status == 0, "\(initialized.error)")
        try DaemonProcess.command(["revoke", "--data", data, "--subject", "st-003"])
        Thread.sleep(forTimeInterval: 0.6)  // the daemon reads its revocations every 250 ms
        let run = try DaemonProcess.run("yongai-station", ["--home", kiosk, "run"], timeout: 30)
        #expect(run.status != 0)
        let lines = run.error.split(separator: "\n").filter { $0.hasPrefix("yongai-station:") }
        #expect(lines.count == 1 && lines.first?.contains("revoked") == true, "\(run.error)")
        #expect(daemon.stop() == 0)
    }
}
