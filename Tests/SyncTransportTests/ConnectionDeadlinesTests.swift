import NIOCore
import NIOEmbedded
import SyncTransport
import Synchronization
import Testing

/// The deadlines handler on an `EmbeddedChannel`, whose clock moves only when told: each
/// limit, and what does and does not restart it.
@Suite struct ConnectionDeadlinesTests {
    static let limits = ConnectionDeadlines.Limits(hello: .seconds(10), idle: .seconds(120), line: .seconds(30))

    /// A channel with the handler, its loop, and the farewell lines asked for.
    final class Harness {
        let loop = EmbeddedEventLoop()
        let channel: EmbeddedChannel
        let expired = Expiries()

        final class Expiries: Sendable {
            let list = Mutex<[ConnectionDeadlines.Expiry]>([])
        }

        init() throws {
            let expired = expired
            channel = EmbeddedChannel(loop: loop)
            try channel.pipeline.syncOperations.addHandler(
                ConnectionDeadlines(limits: ConnectionDeadlinesTests.limits) { expiry in
                    expired.list.withLock { $0.append(expiry) }
                    return ByteBuffer(string: "bye \(expiry)\n")
                })
            try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func send(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
            while try channel.readInbound(as: ByteBuffer.self) != nil {}
        }

        func advance(seconds: Int64) {
            loop.advanceTime(by: .seconds(seconds))
        }

        var farewells: [ConnectionDeadlines.Expiry] { expired.list.withLock { $0 } }

        func written() throws -> String? {
            try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }
        }

        func greet() {
            channel.triggerUserOutboundEvent(ConnectionDeadlines.Event.greeted, promise: nil)
        }
    }

    @Test func helloMustComeInTimeAndPingsDoNotExtendIt() throws {
        let harness = try Harness()
        harness.advance(seconds: 5)
        try harness.send("{\"type\":\"ping\",\"id\":1}\n")
        harness.advance(seconds: 4)
        #expect(harness.farewells.isEmpty)
        harness.advance(seconds: 1)
        #expect(harness.farewells == [.hello])
        #expect(try harness.written() == "bye hello\n")
        #expect(!harness.channel.isActive, "closed")
    }

    @Test func onceGreetedLinesAndAnswersRestartTheIdleTime() throws {
        let harness = try Harness()
        harness.advance(seconds: 1)
        harness.greet()
        harness.advance(seconds: 100)
        try harness.send("{\"type\":\"ping\",\"id\":2}\n")
        harness.advance(seconds: 100)
        harness.channel.triggerUserOutboundEvent(ConnectionDeadlines.Event.answered, promise: nil)
        harness.advance(seconds: 119)
        #expect(harness.farewells.isEmpty, "past the hello limit and 319 s in, never 120 s idle")
        harness.advance(seconds: 1)
        #expect(harness.farewells == [.idle])
        #expect(!harness.channel.isActive)
    }

    @Test func aLineFedOneByteAtATimeIsCutAtTheLineLimit() throws {
        let harness = try Harness()
        harness.greet()
        for byte in "{\"type\":\"ping\",\"id\":3".utf8 {
            try harness.channel.writeInbound(ByteBuffer(bytes: [byte]))
            harness.advance(seconds: 1)
        }
        // 21 bytes over 21 s, and the line never ends: the clock runs from its first byte.
        harness.advance(seconds: 8)
        #expect(harness.farewells.isEmpty)
        harness.advance(seconds: 1)
        #expect(harness.farewells == [.line])
        #expect(try harness.written() == "bye line\n")
    }

    @Test func aLineThatEndsStopsTheLineClockAndWhatFollowsStartsItAgain() throws {
        let harness = try Harness()
        harness.greet()
        try harness.send("{\"type\":")
        harness.advance(seconds: 29)
        try harness.send("\"ping\",\"id\":4}\n{\"ty")
        harness.advance(seconds: 29)
        #expect(harness.farewells.isEmpty, "a new line began 29 s ago")
        try harness.send("pe\":\"ping\",\"id\":5}\n")
        harness.advance(seconds: 60)
        #expect(harness.farewells.isEmpty, "no line open, and under the idle time")
        harness.advance(seconds: 60)
        #expect(harness.farewells == [.idle])
    }
}
