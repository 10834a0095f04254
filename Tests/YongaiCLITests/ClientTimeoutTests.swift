import Foundation
import SyncStore
import SyncTesting
import Testing

/// The CLI against daemons that misbehave, and the files that hold its token.
@Suite(.timeLimit(.minutes(1))) struct ClientTimeoutTests {
    /// A token as the client reads it (role, subject, expiry); no daemon checks it here.
    static func token(role: String, subject: String, expiresAt: Int64 = 4_102_444_800_000) -> String {
        let payload = #"{"role":"\#(role)","sub":"\#(subject)","iat":0,"exp":\#(expiresAt)}"#
        let encoded = Data(payload.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "yat1.\(encoded).c2lnbmF0dXJl"
    }

    @Test func aDaemonThatAcceptsButNeverAnswersDoesNotHangSync() throws {
        let directory = TemporaryDirectory("silent")
        defer { directory.remove() }
        let listener = try SilentListener()
        let home = directory.file("rider")
        let server = "127.0.0.1:\(listener.port)"
        let initialized = try DaemonProcess.run(
            "yongai",
            ["--home", home, "init", "--server", server, "--token", Self.token(role: "rider", subject: "r-1")],
            timeout: 30)
        #expect(initialized.status == 0, "\(initialized.error)")
        let started = Date()
        let run = try DaemonProcess.run("yongai", ["--home", home, "sync", "--timeout", "1"], timeout: 30)
        #expect(!run.timedOut)
        #expect(run.status == 75)
        let lines = run.error.split(separator: "\n")
        #expect(lines.count == 1, "\(run.error)")
        #expect(run.error.contains("the daemon at \(server) did not answer within 1 s"), "\(run.error)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(listener.acceptedCount >= 1, "it did connect")
    }

    /// A token expired by the device's clock is only a warning at init (the device's clock may
    /// be wrong; the daemon's decides), in one line.
    @Test func initWarnsOfATokenExpiredByTheDevicesClock() throws {
        let directory = TemporaryDirectory("expired")
        defer { directory.remove() }
        let run = try DaemonProcess.run(
            "yongai",
            [
                "--home", directory.file("rider"), "init", "--server", "127.0.0.1:7420", "--token",
                Self.token(role: "rider", subject: "r-1", expiresAt: 1_000),
            ], timeout: 30)
        #expect(run.status == 0)
        #expect(run.error.split(separator: "\n").count == 1, "\(run.error)")
        #expect(run.error.contains("the token expired at 1970-01-01T00:00:01Z"), "\(run.error)")
        #expect(FileManager.default.fileExists(atPath: directory.file("rider/device.json")))
    }

    @Test func deviceSettingsHoldingTheTokenAreOwnerOnly() throws {
        let directory = TemporaryDirectory("device-mode")
        defer { directory.remove() }
        let yongai = try DaemonProcess.product("yongai")
        let station = try DaemonProcess.product("yongai-station")
        let rider = directory.file("rider")
        let kiosk = directory.file("kiosk")
        let riderToken = Self.token(role: "rider", subject: "r-1")
        let stationToken = Self.token(role: "station", subject: "st-1")
        let initRider = "'\(yongai)' --home '\(rider)' init --server 127.0.0.1:7420 --token '\(riderToken)' >/dev/null"
        let initKiosk =
            "'\(station)' --home '\(kiosk)' init --station st-1 --server 127.0.0.1:7420 --token '\(stationToken)' >/dev/null"
        #expect(try DaemonProcess.shell("umask 000; \(initRider) && \(initKiosk)") == 0)
        #expect(PrivateFile.mode(of: rider + "/device.json") == 0o600)
        #expect(PrivateFile.mode(of: kiosk + "/device.json") == 0o600)
        // Written again (init once more), it stays owner-only.
        #expect(try DaemonProcess.shell("umask 000; \(initRider)") == 0)
        #expect(PrivateFile.mode(of: rider + "/device.json") == 0o600)
    }
}
