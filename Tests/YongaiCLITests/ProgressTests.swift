import Foundation
import SyncTesting
import Testing

/// On a terminal, a sync that moves more than a screenful shows its progress; piped, it
/// prints only the summary line.
@Suite struct ProgressTests {
    @Test func aLongSyncShowsProgressOnATerminalOnly() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("util-linux script is needed to give the CLI a terminal")
            return
        }
        let directory = TemporaryDirectory("progress")
        defer { directory.remove() }
        let data = directory.file("daemon")
        let csv = directory.file("stations.csv")
        let rows = (1...1_500).map { "st-\($0),charging,Station \($0),,,\(29 + Double($0) / 10_000),121.5,,open,3," }
        try (["id,kind,name,district,address,lat,lon,open_hours,status,free_chargers,meals_left"] + rows)
            .joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        try DaemonProcess.command(["import-stations", "--data", data, csv])
        let daemon = try DaemonProcess(dataDirectory: data)
        let home = directory.file("rider")
        let token = try daemon.token(role: "rider", subject: "r-1")
        #expect(
            try RiderCLITests.yongai(["--home", home, "init", "--server", "127.0.0.1:\(daemon.port)", "--token", token])
                .status == 0)

        let command = [try DaemonProcess.product("yongai"), "--home", home, "sync"].joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("records moved"), "\(text)")
        #expect(text.contains("received 1500"))

        let piped = try RiderCLITests.yongai(["--home", home, "sync"])
        #expect(piped.error.isEmpty && piped.output.hasPrefix("synced with"))
        #expect(daemon.stop() == 0)
    }
}
