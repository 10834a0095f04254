import SyncProtocol
import SyncSession
import SyncStore

/// Runs a client session against a daemon session in memory, every message through its
/// real line encoding, optionally cutting the conversation after a number of daemon replies.
/// Like the sockets' line framing, it refuses a line longer than `maximumLine` (newline
/// excluded) in either direction.
public enum SessionPump {
    /// The outcome of one pumped conversation.
    public enum Outcome {
        case caughtUp(ClientSession.SyncReport)
        /// The link was cut after this many daemon replies.
        case cut(afterReplies: Int)
    }

    public static func sync(
        client: ClientSession, daemon: DaemonSession, cutAfterReplies cut: Int? = nil,
        maximumLine: Int = ProtocolLimits.defaultMaximumLine
    ) throws -> Outcome {
        func framed(_ line: [UInt8]) throws -> [UInt8] {
            guard line.count - 1 <= maximumLine else {
                throw SessionError(
                    code: "line_too_long", "a line of \(line.count - 1) bytes; the most is \(maximumLine)")
            }
            return line
        }
        var outbox: [ClientMessage] = []
        var replies = 0
        func absorb(_ events: [ClientSession.Event]) -> ClientSession.SyncReport? {
            var report: ClientSession.SyncReport?
            for event in events {
                switch event {
                case .send(let message): outbox.append(message)
                case .caughtUp(let done): report = done
                case .pushed, .received: break
                }
            }
            return report
        }
        if let report = absorb(try client.start()) { return .caughtUp(report) }
        // Like the daemon, read the next batch of a pull ahead, before the client takes in this one.
        var readAhead: ReadAhead.Batch?
        while !outbox.isEmpty {
            let line = try framed(outbox.removeFirst().line())
            let output = line.dropLast().withUnsafeBytes { daemon.handle(line: $0, readAhead: readAhead) }
            readAhead = output.readAhead?.read()
            for line in output.lines {
                if let cut, replies == cut { return .cut(afterReplies: replies) }
                replies += 1
                let reply = try framed(line).dropLast().withUnsafeBytes { buffer in
                    try Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }.get()
                }
                if let report = absorb(try client.receive(reply)) { return .caughtUp(report) }
                if let report = absorb(try client.finishPendingWork()) { return .caughtUp(report) }
            }
        }
        throw SessionError(code: "stalled", "the conversation stopped before catching up")
    }
}

/// Tokens of the form `role:subject`, for tests and the simulator (the daemon signs real ones).
public struct PlainTokens: Authenticator {
    public init() {}

    public func principal(for token: String) throws(SessionError) -> Principal {
        let parts = token.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { throw SessionError(code: "bad_token", "a test token is role:subject") }
        return Principal(role: String(parts[0]), subject: String(parts[1]))
    }
}
