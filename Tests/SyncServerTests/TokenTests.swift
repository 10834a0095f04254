import Foundation
import SyncProtocol
import SyncSession
import SyncStore
import SyncTesting
import Testing

@testable import SyncServer

/// Tokens: expiry, one spelling per token, revocation, and owner-only files, through the
/// authority itself and through the real `yongai-syncd` process.
@Suite(.timeLimit(.minutes(1))) struct TokenTests {
    static let secret = [UInt8](repeating: 7, count: 32)
    static let now: Int64 = 1_800_000_000_000

    /// The code `authority` refuses `token` with; nil when it passes.
    static func code(_ authority: TokenAuthority, _ token: String) -> String? {
        do {
            _ = try authority.verify(token)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func aTokenPassesUntilItsExpiry() throws {
        let authority = TokenAuthority(secret: Self.secret, now: { Self.now })
        let live = authority.issue(role: "rider", subject: "r-1", issuedAt: Self.now - 10, expiresAt: Self.now + 1)
        let payload = try authority.verify(live)
        #expect(
            payload == TokenPayload(role: "rider", subject: "r-1", issuedAt: Self.now - 10, expiresAt: Self.now + 1))
        let expired = authority.issue(role: "rider", subject: "r-1", issuedAt: Self.now - 10, expiresAt: Self.now)
        #expect(Self.code(authority, expired) == "token_expired")
    }

    @Test func aTokenWithoutExpiryIsRefused() {
        let authority = TokenAuthority(secret: Self.secret, now: { Self.now })
        let old = authority.sign(.object(["role": .string("rider"), "sub": .string("r-1"), "iat": .integer(0)]))
        #expect(Self.code(authority, old) == "bad_token")
    }

    /// 32 signature bytes take 43 base64url characters, the last with 2 unused bits: four
    /// spellings decode to the same bytes, and only the one with zero bits is the token.
    @Test func onlyTheCanonicalSpellingOfASignaturePasses() throws {
        let authority = TokenAuthority(secret: Self.secret, now: { Self.now })
        let token = authority.issue(role: "rider", subject: "r-1", issuedAt: Self.now, expiresAt: Self.now + 1_000)
        _ = try authority.verify(token)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = alphabet.firstIndex(of: token.last!)!
        #expect(last & 0b11 == 0)
        var spellings = 0
        for unused in 1...3 {
            let other = String(token.dropLast()) + String(alphabet[last | unused])
            #expect(Self.code(authority, other) == "bad_token", "\(other)")
            spellings += 1
        }
        #expect(spellings == 3)
        // Padding and the standard alphabet are other spellings too.
        #expect(Self.code(authority, token + "=") == "bad_token")
        let parts = token.split(separator: ".")
        let standard = [parts[0], parts[1], Substring(parts[2].replacingOccurrences(of: "-", with: "+"))]
            .joined(separator: ".")
        if standard != token { #expect(Self.code(authority, standard) == "bad_token") }
    }

    @Test func aRevocationRefusesTokensIssuedBeforeIt() throws {
        let directory = TemporaryDirectory("revocations")
        defer { directory.remove() }
        let path = directory.file("revocations.json")
        let list = try RevocationList(path: path)
        let authority = TokenAuthority(secret: Self.secret, revocations: list, now: { Self.now })
        let before = authority.issue(role: "rider", subject: "r-1", issuedAt: Self.now - 5, expiresAt: Self.now + 9)
        let station = authority.issue(role: "station", subject: "r-1", issuedAt: Self.now - 5, expiresAt: Self.now + 9)
        try RevocationList.add(Revocation(subject: "r-1", role: "rider", before: Self.now - 1), at: path)
        #expect(try list.reload())
        #expect(Self.code(authority, before) == "token_revoked")
        #expect(Self.code(authority, station) == nil, "another role of the same subject")
        let after = authority.issue(role: "rider", subject: "r-1", issuedAt: Self.now - 1, expiresAt: Self.now + 9)
        #expect(Self.code(authority, after) == nil, "issued after the revocation")
        #expect(PrivateFile.mode(of: path) == 0o600)
    }

    @Test func lifetimesAreReadAsCountsOfMinutesHoursOrDays() {
        #expect(TokenLifetime("30m")?.milliseconds == 1_800_000)
        #expect(TokenLifetime("12h")?.milliseconds == 43_200_000)
        #expect(TokenLifetime("90d")?.milliseconds == 7_776_000_000)
        for bad in ["", "d", "0d", "-1d", "+1d", "1w", "never", "1.5h", "99999d"] {
            #expect(TokenLifetime(bad) == nil, "\(bad)")
        }
    }

    /// The payload of a token, read without checking it.
    static func payload(_ token: String) throws -> JSONValue {
        var text = String(token.split(separator: ".")[1])
        text = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        return try JSONParser.parse(Array(try #require(Data(base64Encoded: text))))
    }

    static func lifetime(_ token: String) throws -> Int64? {
        let json = try payload(token)
        guard case .integer(let issued)? = json["iat"], case .integer(let expires)? = json["exp"] else { return nil }
        return expires - issued
    }

    @Test func theTokenCommandSetsExpiryByRoleOrAsAsked() throws {
        let directory = TemporaryDirectory("token-cli")
        defer { directory.remove() }
        let data = directory.file("data")
        func token(_ arguments: [String]) throws -> String {
            try DaemonProcess.command(["token", "--data", data] + arguments)
        }
        let day: Int64 = 86_400_000
        #expect(try Self.lifetime(token(["--role", "rider", "--subject", "r-1"])) == 90 * day)
        #expect(try Self.lifetime(token(["--role", "station", "--subject", "st-1"])) == 365 * day)
        #expect(try Self.lifetime(token(["--role", "staff", "--subject", "desk"])) == 30 * day)
        #expect(try Self.lifetime(token(["--role", "admin", "--subject", "ops"])) == 7 * day)
        #expect(try Self.lifetime(token(["--role", "admin", "--subject", "ops", "--expires", "30m"])) == 1_800_000)
        for bad in ["0d", "never", "12x"] {
            let run = try DaemonProcess.run(
                "yongai-syncd", ["token", "--data", data, "--role", "rider", "--subject", "r", "--expires", bad],
                timeout: 30)
            #expect(run.status != 0, "--expires \(bad)")
        }
    }

    @Test func theSecretAndRevocationsAreOwnerOnlyWhateverTheUmask() throws {
        let directory = TemporaryDirectory("token-mode")
        defer { directory.remove() }
        let data = directory.file("data")
        let syncd = try DaemonProcess.product("yongai-syncd")
        let run = try DaemonProcess.shell(
            "umask 000; '\(syncd)' token --data '\(data)' --role rider --subject r-1 >/dev/null"
                + " && '\(syncd)' revoke --data '\(data)' --subject r-1 >/dev/null"
                + " && '\(syncd)' revoke --data '\(data)' --subject r-2 --role rider >/dev/null")
        #expect(run == 0)
        #expect(PrivateFile.mode(of: data + "/secret") == 0o600)
        #expect(PrivateFile.mode(of: data + "/revocations.json") == 0o600)
        let list = try RevocationList(path: data + "/revocations.json")
        #expect(list.entries.map(\.subject) == ["r-1", "r-2"])
        #expect(list.entries.map(\.role) == [nil, "rider"])
    }

    @Test func theDaemonRefusesExpiredAndExpiryLessTokensAtHello() throws {
        let directory = TemporaryDirectory("token-hello")
        defer { directory.remove() }
        let data = directory.file("data")
        let daemon = try DaemonProcess(dataDirectory: data)
        let authority = try TokenAuthority.loadOrCreate(at: data + "/secret")
        let now = SystemClock().nowMillis()
        let expired = authority.issue(role: "rider", subject: "r-1", issuedAt: now - 10_000, expiresAt: now - 1_000)
        let old = authority.sign(.object(["role": .string("rider"), "sub": .string("r-1"), "iat": .integer(now)]))
        for (token, code) in [(expired, "error:token_expired"), (old, "error:bad_token")] {
            let socket = try LineSocket(port: daemon.port)
            try socket.send(line: ConnectionLimitTests.hello(token))
            #expect(try ConnectionLimitTests.kind(socket) == code)
            #expect(try socket.readLine(timeout: 5) == nil, "closed")
        }
        #expect(daemon.stop() == 0)
        #expect(daemon.standardError().contains("refusing a token"), "logged")
    }

    @Test func revokeClosesOpenConnectionsAndRefusesTheNextHello() throws {
        let directory = TemporaryDirectory("revoke")
        defer { directory.remove() }
        let data = directory.file("data")
        let daemon = try DaemonProcess(dataDirectory: data)
        let token = try daemon.token(role: "rider", subject: "r-7")
        let bystanderToken = try daemon.token(role: "rider", subject: "r-8")
        let subscriber = try LineSocket(port: daemon.port)
        try subscriber.send(line: ConnectionLimitTests.hello(token, replica: "phone-7"))
        #expect(try ConnectionLimitTests.kind(subscriber) == "welcome")
        try subscriber.send(line: #"{"type":"subscribe","id":2,"cursor":0}"#)
        #expect(try ConnectionLimitTests.kind(subscriber) == "subscribed")
        let bystander = try LineSocket(port: daemon.port)
        try bystander.send(line: ConnectionLimitTests.hello(bystanderToken, replica: "phone-8"))
        #expect(try ConnectionLimitTests.kind(bystander) == "welcome")

        let revoked = try DaemonProcess.command(["revoke", "--data", data, "--subject", "r-7"])
        #expect(revoked.contains("r-7"))
        var next = try ConnectionLimitTests.kind(subscriber, timeout: 5)
        while next == "changes" { next = try ConnectionLimitTests.kind(subscriber, timeout: 5) }
        #expect(next == "error:token_revoked")
        #expect(try subscriber.readLine(timeout: 5) == nil, "closed")

        let again = try LineSocket(port: daemon.port)
        try again.send(line: ConnectionLimitTests.hello(token, replica: "phone-7"))
        #expect(try ConnectionLimitTests.kind(again) == "error:token_revoked")
        #expect(try again.readLine(timeout: 5) == nil)

        // Others stay; a token issued after the revocation passes.
        try bystander.send(line: #"{"type":"ping","id":3}"#)
        #expect(try ConnectionLimitTests.kind(bystander) == "pong")
        Thread.sleep(forTimeInterval: 0.01)
        let fresh = try LineSocket(port: daemon.port)
        try fresh.send(line: ConnectionLimitTests.hello(try daemon.token(role: "rider", subject: "r-7")))
        #expect(try ConnectionLimitTests.kind(fresh) == "welcome")
        #expect(daemon.stop() == 0)
    }

    /// A revocation where no daemon keeps its data would revoke nothing: it is refused in one
    /// line, and nothing is created there.
    @Test func revokeRefusesADirectoryWithoutDaemonData() throws {
        let directory = TemporaryDirectory("revoke-nowhere")
        defer { directory.remove() }
        let data = directory.file("not-a-daemon")
        let run = try DaemonProcess.run("yongai-syncd", ["revoke", "--data", data, "--subject", "r-1"], timeout: 30)
        #expect(run.status == 1)
        #expect(run.error.split(separator: "\n").count == 1, "\(run.error)")
        #expect(run.error.contains("holds no daemon data"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: data))
    }
}
