import Foundation
import Logging
import SyncClient
import SyncProtocol
import SyncServer
import SyncStore
import SyncTesting
import Synchronization
import Testing
import YongaiDomain

/// The daemon's time limits and caps, against the real daemon process with small limits,
/// driven by plain sockets. (Blocking socket reads in the test would starve an in-process
/// daemon of the cooperative threads on a small machine.)
@Suite(.timeLimit(.minutes(1))) struct ConnectionLimitTests {
    /// A daemon on a fresh data directory with `arguments` to `serve`; the directory goes with
    /// the test.
    static func daemon(_ arguments: [String], in directory: TemporaryDirectory) throws -> DaemonProcess {
        try DaemonProcess(dataDirectory: directory.file("data"), arguments: arguments)
    }

    static func hello(_ token: String, replica: String = "dev-1", id: Int = 1) -> [UInt8] {
        JSONWriter.encode(
            .object([
                "type": .string("hello"), "id": .integer(Int64(id)), "protocol": .integer(2),
                "replica": .string(replica), "token": .string(token),
            ]))
    }

    /// The message's `type`, and its `code` when an error.
    static func kind(_ socket: LineSocket, timeout: Double = 5) throws -> String? {
        guard let line = try socket.readLine(timeout: timeout) else { return nil }
        let json = try JSONParser.parse(line)
        guard case .string(let type)? = json["type"] else { return "?" }
        if type == "error", case .string(let code)? = json["code"] { return "error:\(code)" }
        return type
    }

    /// The error's message.
    static func errorMessage(_ socket: LineSocket, code: String) throws -> String? {
        guard let line = try socket.readLine(timeout: 5) else { return nil }
        let json = try JSONParser.parse(line)
        guard json["code"] == .string(code), case .string(let message)? = json["message"] else {
            Issue.record("expected \(code), got \(String(decoding: line, as: UTF8.self))")
            return nil
        }
        return message
    }

    @Test func aConnectionThatNeverSaysHelloIsClosed() throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon(["--hello-timeout", "2"], in: directory)
        let socket = try LineSocket(port: daemon.port)
        let opened = Date()
        // A ping is answered, but does not make up for the missing hello.
        try socket.send(line: #"{"type":"ping","id":1}"#)
        #expect(try Self.kind(socket) == "pong")
        let message = try Self.errorMessage(socket, code: "timeout")
        #expect(message?.contains("hello") == true)
        #expect(Date().timeIntervalSince(opened) >= 1.9)
        #expect(try socket.readLine(timeout: 5) == nil, "closed after the error")
        #expect(daemon.stop() == 0)
    }

    @Test func anIdleGreetedConnectionIsClosedAndWelcomeTellsTheLimit() throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon(["--hello-timeout", "1", "--idle-timeout", "3"], in: directory)
        let socket = try LineSocket(port: daemon.port)
        try socket.send(line: Self.hello(try daemon.token(role: "rider", subject: "r-1")))
        let welcome = try JSONParser.parse(try #require(try socket.readLine()))
        #expect(welcome["idle_timeout_ms"] == .integer(3_000))
        let greeted = Date()
        // Past the hello limit, within the idle one: still open.
        Thread.sleep(forTimeInterval: 1.5)
        try socket.send(line: #"{"type":"ping","id":2}"#)
        #expect(try Self.kind(socket) == "pong")
        let message = try Self.errorMessage(socket, code: "timeout")
        #expect(message?.contains("ping") == true)
        #expect(Date().timeIntervalSince(greeted) >= 1.5 + 2.9)
        #expect(try socket.readLine(timeout: 5) == nil)
        #expect(daemon.stop() == 0)
    }

    @Test func aSubscriberThatPingsStaysOpenPastTheIdleLimit() throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon(["--idle-timeout", "2"], in: directory)
        let socket = try LineSocket(port: daemon.port)
        try socket.send(line: Self.hello(try daemon.token(role: "rider", subject: "r-1")))
        #expect(try Self.kind(socket) == "welcome")
        try socket.send(line: #"{"type":"subscribe","id":2,"cursor":0}"#)
        #expect(try Self.kind(socket) == "subscribed")
        // Six pings half a second apart: past the idle limit in all, never idle that long.
        for ping in 3..<9 {
            Thread.sleep(forTimeInterval: 0.5)
            try socket.send(line: #"{"type":"ping","id":\#(ping)}"#)
            // Live changes may come first; the pong must come.
            var next = try Self.kind(socket)
            while next == "changes" { next = try Self.kind(socket) }
            #expect(next == "pong", "open after \(ping - 2) pings")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func theClientLibraryPingsALiveConnectionWithinTheIdleLimit() async throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon(["--idle-timeout", "3"], in: directory)
        let connections = Counter()
        let client = SyncClient(
            store: try SyncStore(.inMemory, schema: YongaiCollections.schema),
            configuration: .init(
                host: "127.0.0.1", port: daemon.port, token: try daemon.token(role: "station", subject: "st-1"),
                backoffCap: .milliseconds(200), backoffBase: .milliseconds(20)),
            logger: Logger(label: "test.client"))
        let running = Task {
            try await client.run { event in
                if case .caughtUp = event { connections.add() }
            }
        }
        // Once live, well past twice the idle limit: still the one connection.
        let deadline = ContinuousClock.now + .seconds(30)
        while connections.value == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(7))
        running.cancel()
        try await running.value
        #expect(connections.value == 1, "one connection, kept open by pings")
        #expect(daemon.stop() == 0)
    }

    @Test func aLineTricklingInWithoutANewlineIsCut() throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon(["--line-timeout", "0.5"], in: directory)
        let socket = try LineSocket(port: daemon.port)
        try socket.send(line: Self.hello(try daemon.token(role: "rider", subject: "r-1")))
        #expect(try Self.kind(socket) == "welcome")
        let started = Date()
        var cut = false
        for byte in Array(#"{"type":"ping","id":2,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#.utf8) {
            do {
                try socket.send(bytes: [byte])
            } catch {
                cut = true
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
            if Date().timeIntervalSince(started) > 1.5 { break }
        }
        let message = try Self.errorMessage(socket, code: "timeout")
        #expect(message?.contains("line") == true)
        #expect(try socket.readLine(timeout: 5) == nil)
        _ = cut
        #expect(daemon.stop() == 0)
    }

    @Test func pastTheConnectionCapTheDaemonAnswersBusy() throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon(["--max-connections", "2"], in: directory)
        let first = try LineSocket(port: daemon.port)
        let second = try LineSocket(port: daemon.port)
        for socket in [first, second] {
            try socket.send(line: #"{"type":"ping","id":1}"#)
            #expect(try Self.kind(socket) == "pong")
        }
        let third = try LineSocket(port: daemon.port)
        let message = try Self.errorMessage(third, code: "busy")
        #expect(message?.contains("most connections (2)") == true)
        #expect(try third.readLine(timeout: 5) == nil)
        #expect(daemon.stop() == 0)
    }

    @Test func pastThePerPrincipalCapTheDaemonAnswersBusy() throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon(["--max-connections-per-principal", "1"], in: directory)
        let token = try daemon.token(role: "rider", subject: "r-1")
        let first = try LineSocket(port: daemon.port)
        try first.send(line: Self.hello(token, replica: "phone-1"))
        #expect(try Self.kind(first) == "welcome")
        let second = try LineSocket(port: daemon.port)
        try second.send(line: Self.hello(token, replica: "phone-2"))
        let message = try Self.errorMessage(second, code: "busy")
        #expect(message?.contains("rider:r-1") == true)
        #expect(try second.readLine(timeout: 5) == nil)
        // Another principal is counted apart.
        let other = try LineSocket(port: daemon.port)
        try other.send(line: Self.hello(try daemon.token(role: "rider", subject: "r-2"), replica: "phone-3"))
        #expect(try Self.kind(other) == "welcome")
        // Once the first is gone, its principal may connect again.
        first.closeNow()
        let deadline = Date().addingTimeInterval(5)
        var welcomed = false
        while !welcomed && Date() < deadline {
            let again = try LineSocket(port: daemon.port)
            try again.send(line: Self.hello(token, replica: "phone-1"))
            welcomed = try Self.kind(again) == "welcome"
            if !welcomed { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(welcomed)
        #expect(daemon.stop() == 0)
    }

    @Test func shutdownTellsEveryConnectionBeforeClosingIt() throws {
        let directory = TemporaryDirectory("limits")
        defer { directory.remove() }
        let daemon = try Self.daemon([], in: directory)
        let token = try daemon.token(role: "rider", subject: "r-1")
        let idle = try LineSocket(port: daemon.port)
        try idle.send(line: Self.hello(token, replica: "phone-1"))
        #expect(try Self.kind(idle) == "welcome")
        let subscriber = try LineSocket(port: daemon.port)
        try subscriber.send(line: Self.hello(token, replica: "phone-2"))
        #expect(try Self.kind(subscriber) == "welcome")
        try subscriber.send(line: #"{"type":"subscribe","id":2,"cursor":0}"#)
        #expect(try Self.kind(subscriber) == "subscribed")
        let fresh = try LineSocket(port: daemon.port)
        try fresh.send(line: #"{"type":"ping","id":1}"#)
        #expect(try Self.kind(fresh) == "pong")
        #expect(daemon.stop() == 0, "a clean exit on SIGTERM")
        for socket in [idle, subscriber, fresh] {
            var next = try Self.kind(socket)
            while next == "changes" { next = try Self.kind(socket) }
            #expect(next == "error:shutting_down")
            #expect(try socket.readLine(timeout: 5) == nil)
        }
    }
}

/// A count shared with a client's event handler.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
