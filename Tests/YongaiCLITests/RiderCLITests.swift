import Foundation
import SyncProtocol
import SyncTesting
import Testing

/// The `yongai` binary, run as a rider would, against the real daemon binary.
@Suite struct RiderCLITests {
    static let stations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("protocol/examples/stations.csv").path

    static func yongai(_ arguments: [String]) throws -> DaemonProcess.Run {
        try DaemonProcess.run("yongai", arguments)
    }

    @Test func aRiderWorksOfflineAndSyncs() throws {
        let directory = TemporaryDirectory("cli")
        defer { directory.remove() }
        let data = directory.file("daemon")
        let home = directory.file("rider")
        try DaemonProcess.command(["import-stations", "--data", data, Self.stations])
        let daemon = try DaemonProcess(dataDirectory: data)
        let token = try daemon.token(role: "rider", subject: "r-7")

        let before = try Self.yongai(["--home", home, "stations"])
        #expect(before.status == 1 && before.error == "yongai: no store in \(home) yet: run yongai init first\n")
        #expect(
            try Self.yongai(["--home", home, "init", "--server", "127.0.0.1:\(daemon.port)", "--token", token]).status
                == 0)
        let unknown = try Self.yongai(["--home", home, "checkin", "st-001"])
        #expect(unknown.status == 1 && unknown.error.hasPrefix("yongai: unknown station \"st-001\""))

        let sync = try Self.yongai(["--home", home, "sync"])
        #expect(sync.status == 0)
        #expect(sync.output == "synced with 127.0.0.1:\(daemon.port): sent 0, received 5, conflicts 0, refused 0\n")
        let near = try Self.yongai(["--home", home, "stations", "--near", "29.8716,121.5539", "--limit", "2", "--json"])
        let hits = try near.output.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(hits.map { $0["id"] } == [.string("st-001"), .string("st-002")])
        #expect(hits.first?["distance_m"] == .integer(0))
        let open = try Self.yongai(["--home", home, "stations", "--kind", "charging", "--open", "--json"])
        #expect(open.output.split(separator: "\n").count == 1)

        // Offline: the daemon stops; the rider checks in anyway.
        #expect(daemon.stop() == 0)
        #expect(try Self.yongai(["--home", home, "checkin", "st-002", "--purpose", "charge"]).status == 0)
        let unreachable = try Self.yongai(["--home", home, "sync"])
        #expect(unreachable.status == 75)
        #expect(unreachable.error.contains("1 changes wait to be sent"))
        let status = try JSONParser.parse(try Self.yongai(["--home", home, "status", "--json"]).output)
        #expect(status["pending"] == .integer(1) && status["subject"] == .string("r-7"))

        // Back online: the check-in reaches the daemon.
        let again = try DaemonProcess(dataDirectory: data)
        #expect(
            try Self.yongai(["--home", home, "init", "--server", "127.0.0.1:\(again.port)", "--token", token]).status
                == 0)
        let resync = try Self.yongai(["--home", home, "sync"])
        #expect(resync.status == 0 && resync.output.contains("sent 1"))
        let checkins = try Self.yongai(["--home", home, "checkins", "--json"]).output.split(separator: "\n")
        #expect(checkins.count == 1)
        #expect(try JSONParser.parse(String(checkins[0]))["station_id"] == .string("st-002"))
        #expect(
            try JSONParser.parse(try Self.yongai(["--home", home, "status", "--json"]).output)["pending"] == .integer(0)
        )
        #expect(again.stop() == 0)
    }

    /// A rider files an appeal offline; the hotline works it; the rider rates it.
    @Test func anAppealGoesFromTheRiderToTheHotlineAndBack() throws {
        let directory = TemporaryDirectory("cli-appeals")
        defer { directory.remove() }
        let data = directory.file("daemon")
        let rider = directory.file("rider")
        let desk = directory.file("desk")
        let daemon = try DaemonProcess(dataDirectory: data)
        let server = "127.0.0.1:\(daemon.port)"
        #expect(
            try Self.yongai([
                "--home", rider, "init", "--server", server, "--token", daemon.token(role: "rider", subject: "r-7"),
            ]).status == 0)
        #expect(
            try Self.yongai([
                "--home", desk, "init", "--server", server, "--token", daemon.token(role: "staff", subject: "desk"),
            ]).status == 0)
        #expect(
            try Self.yongai(["--home", rider, "appeal", "file", "--category", "wages", "--text", "Unpaid for 3 weeks"])
                .status == 0)
        #expect(try Self.yongai(["--home", rider, "sync"]).status == 0)
        #expect(try Self.yongai(["--home", desk, "sync"]).status == 0)
        let listed = try Self.yongai(["--home", desk, "appeal", "list", "--all", "--json"]).output
        let appeal = try JSONParser.parse(String(listed.split(separator: "\n").first ?? ""))
        guard case .string(let id)? = appeal["id"] else {
            Issue.record("the hotline does not see the appeal: \(listed)")
            return
        }
        #expect(appeal["status"] == .string("filed") && appeal["rider_id"] == .string("r-7"))
        let notStaff = try Self.yongai(["--home", rider, "appeal", "update", id, "--status", "closed"])
        #expect(notStaff.status == 1 && notStaff.error == "yongai: only the hotline (a staff token) updates appeals\n")
        #expect(
            try Self.yongai(["--home", desk, "appeal", "update", id, "--status", "resolved", "--resolution", "paid"])
                .status == 0)
        #expect(try Self.yongai(["--home", desk, "sync"]).status == 0)
        #expect(try Self.yongai(["--home", rider, "sync"]).status == 0)
        let badScore = try Self.yongai(["--home", rider, "appeal", "rate", id, "--score", "6"])
        #expect(badScore.status == 1 && badScore.error == "yongai: bad score 6: rate from 1 to 5\n")
        #expect(try Self.yongai(["--home", rider, "appeal", "rate", id, "--score", "5"]).status == 0)
        #expect(try Self.yongai(["--home", rider, "sync"]).status == 0)
        #expect(try Self.yongai(["--home", desk, "sync"]).status == 0)
        let shown = try JSONParser.parse(try Self.yongai(["--home", desk, "appeal", "show", id, "--json"]).output)
        #expect(shown["status"] == .string("resolved") && shown["resolution"] == .string("paid"))
        #expect(shown["satisfaction"] == .integer(5))
        #expect(daemon.stop() == 0)
    }

    @Test func errorsAreOneLineWithAnExitCode() throws {
        let directory = TemporaryDirectory("cli-errors")
        defer { directory.remove() }
        let home = directory.file("rider")
        let cases: [([String], String)] = [
            (
                ["init", "--server", "nowhere", "--token", "x"],
                "yongai: bad server address \"nowhere\": use HOST:PORT, as 127.0.0.1:7420\n"
            ),
            (
                ["init", "--server", "127.0.0.1:7420", "--token", "not.a.token"],
                "yongai: the token is not a Yong'ai token (ask the daemon's operator for yongai-syncd token)\n"
            ),
            (["stations", "--near", "100,1"], "yongai: bad coordinates \"100,1\": use LAT,LON, as 29.87,121.55\n"),
            (["checkins"], "yongai: no store in \(home) yet: run yongai init first\n"),
        ]
        for (arguments, message) in cases {
            let result = try Self.yongai(["--home", home] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.error == message, "\(arguments)")
        }
    }
}
