import Logging
import NIOCore
import NIOPosix
import SyncProtocol
import SyncSession
import SyncStore
import SyncTransport
import Synchronization

/// Syncs a store with a daemon over TCP: one-shot (`sync`) or staying connected with a live
/// subscription and reconnecting with backoff (`run`). The conversation itself is a
/// `ClientSession`; this type only carries its messages.
public final class SyncClient: Sendable {
    public let store: SyncStore
    public let configuration: ClientConfiguration
    private let logger: Logger
    private let pool: NIOThreadPool

    public init(store: SyncStore, configuration: ClientConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        pool = NIOThreadPool.singleton
    }

    /// Connects, pushes everything pending, pulls until caught up, and disconnects.
    /// `onEvent` sees each batch (for progress). When the daemon finds a copy of this store
    /// pushing under the same replica id, the store moves its later writes to a new id and
    /// the sync runs again under it; when another sync of this same store pushed meanwhile,
    /// it runs again too (up to four tries in all).
    @discardableResult
    public func sync(onEvent: @escaping @Sendable (ClientSession.Event) -> Void = { _ in }) async throws
        -> ClientSession.SyncReport
    {
        var attempts = 0
        while true {
            attempts += 1
            do {
                return try await converse(subscribe: false, onEvent: onEvent)
            } catch let error as SessionError where error.renaming != nil && attempts < 4 {
                logRenaming(error)
            } catch let error as SessionError where error.code == SessionError.concurrentPush && attempts < 4 {
                // Another sync of this store (a running agent) pushed meanwhile: go again.
                logger.info("another sync of this store pushed meanwhile; syncing again")
                try await Task.sleep(for: .milliseconds(50 * attempts))
            }
        }
    }

    private func logRenaming(_ error: SessionError) {
        logger.warning(
            "another device uses a copy of this store; this device's later writes moved to a new replica id",
            metadata: ["sync.error": "\(error)", "sync.renaming": "\(error.renaming.map { "\($0)" } ?? "")"])
    }

    /// Daemon refusals of the token itself: no retry can pass them, only a new token.
    public static let tokenRefusals: Set<String> = ["bad_token", "token_expired", "token_revoked"]

    /// Stays in sync until cancelled: syncs, keeps a live subscription, and after any failure
    /// waits (exponential backoff with jitter, capped) and reconnects. Local writes go on
    /// meanwhile; they are pushed on the next connection. Throws the daemon's refusal of the
    /// token, or of the protocol version, which no retry can pass.
    public func run(onEvent: @escaping @Sendable (ClientSession.Event) -> Void = { _ in }) async throws {
        var backoff = Backoff(base: configuration.backoffBase, cap: configuration.backoffCap)
        while !Task.isCancelled {
            let reachedLive = Atomic<Bool>(false)
            do {
                _ = try await converse(subscribe: true) { event in
                    if case .caughtUp = event { reachedLive.store(true, ordering: .relaxed) }
                    onEvent(event)
                }
            } catch is CancellationError {
                return
            } catch let error as SessionError where error.renaming != nil {
                // Renamed away from a copy of this store: reconnect at once under the new id.
                logRenaming(error)
            } catch let error as SessionError
                where Self.tokenRefusals.contains(error.code) || error.code == "unsupported_protocol"
            {
                logger.error("the daemon refuses this device; stopping", metadata: ["sync.error": "\(error)"])
                throw error
            } catch let error as SessionError where error.code == SessionError.concurrentPush {
                // A one-off sync of this store pushed meanwhile: reconnect at once.
                logger.info("another sync of this store pushed meanwhile; reconnecting")
            } catch {
                // A connection that got as far as live was a success: start the backoff over.
                if reachedLive.load(ordering: .relaxed) { backoff.reset() }
                let wait = backoff.next()
                logger.info(
                    "sync connection lost; retrying",
                    metadata: ["sync.error": "\(error)", "sync.retry_in_ms": "\(wait.components.seconds * 1000)"])
                try? await Task.sleep(for: wait)
            }
        }
    }

    private func converse(subscribe: Bool, onEvent: @escaping @Sendable (ClientSession.Event) -> Void) async throws
        -> ClientSession.SyncReport
    {
        let maximumLine = configuration.maximumLine
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(configuration.connectTimeout.components.seconds * 1000))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture { try LineFraming.wrap(channel, maximumLine: maximumLine) }
            }
        let session = ClientSessionBox(
            ClientSession(
                store: store,
                configuration: .init(
                    token: configuration.token, batchSize: configuration.batchSize, subscribe: subscribe)))
        let watch = ReplyWatch()
        return try await connection.executeThenClose { inbound, outbound in
            var report: ClientSession.SyncReport?
            func send(_ message: ClientMessage) async throws {
                watch.sent()
                try await outbound.write(ByteBuffer(bytes: message.line()))
            }
            func absorb(_ events: [ClientSession.Event]) async throws {
                for event in events {
                    if case .send(let message) = event {
                        try await send(message)
                    } else {
                        if case .caughtUp(let done) = event { report = done }
                        onEvent(event)
                    }
                }
            }
            try await absorb(try await pool.runIfActive { try session.value.start() })
            if let report, !subscribe { return report }
            // Daemon messages and, when live, a tick to push local writes made meanwhile: one
            // queue, so the session sees one thing at a time. Lines are decoded as they
            // arrive, beside the merge of the batch before.
            let (inputs, feed) = AsyncThrowingStream<DaemonMessage?, any Error>.makeStream()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await frame in inbound {
                            let message = try frame.withUnsafeReadableBytes { buffer in
                                try Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }.get()
                            }
                            watch.received(message)
                            feed.yield(message)
                        }
                        feed.finish(throwing: SessionError(code: "disconnected", "the daemon closed the connection"))
                    } catch {
                        feed.finish(throwing: error)
                    }
                }
                // A daemon that accepted the connection but stopped answering fails it.
                let readTimeout = configuration.readTimeout
                let silence = SessionError(
                    code: SessionError.noAnswer,
                    "the daemon at \(configuration.address) did not answer within \(Self.describe(readTimeout))")
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: min(readTimeout / 10, .seconds(1)))
                        if watch.overdue(readTimeout) {
                            feed.finish(throwing: silence)
                            return
                        }
                    }
                }
                if subscribe {
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .milliseconds(500))
                            feed.yield(nil)
                        }
                    }
                }
                defer { group.cancelAll() }
                var pings = 0
                var lastPing = ContinuousClock.now
                for try await input in inputs {
                    guard let message = input else {
                        try await absorb(try await pool.runIfActive { try session.value.pushIfPending() })
                        // Live: a ping keeps the connection from the daemon's idle timeout, and
                        // its pong shows the daemon is still there.
                        if ContinuousClock.now - lastPing >= watch.pingInterval(readTimeout: readTimeout) {
                            pings += 1
                            lastPing = .now
                            try await send(.ping(id: .string("keepalive-\(pings)")))
                        }
                        continue
                    }
                    let events = try await pool.runIfActive { try session.value.receive(message) }
                    // The deferred merge starts while the next pull is being written.
                    async let merged = pool.runIfActive { try session.value.finishPendingWork() }
                    try await absorb(events)
                    try await absorb(try await merged)
                    if let report, !subscribe { return report }
                }
                throw SessionError(code: "disconnected", "the daemon closed the connection")
            }
        }
    }

    /// A duration as people read it: whole seconds as `30 s`, else milliseconds.
    static func describe(_ duration: Duration) -> String {
        let millis = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        return millis % 1_000 == 0 ? "\(millis / 1_000) s" : "\(millis) ms"
    }
}

/// Whether the daemon owes an answer and for how long: a request sent with none outstanding
/// starts the clock, every line received restarts it, and the clock only runs while a reply
/// is owed. Also keeps the idle timeout the daemon told in `welcome`.
final class ReplyWatch: Sendable {
    private struct State {
        var outstanding = 0
        var since = ContinuousClock.now
        var idleTimeout: Duration?
    }
    private let state = Mutex(State())

    func sent() {
        state.withLock { state in
            if state.outstanding == 0 { state.since = .now }
            state.outstanding += 1
        }
    }

    func received(_ message: DaemonMessage) {
        state.withLock { state in
            state.since = .now
            switch message {
            case .welcome(let welcome):
                state.idleTimeout = welcome.idleTimeoutMillis.map { .milliseconds($0) }
                state.outstanding = max(0, state.outstanding - 1)
            case .error:
                state.outstanding = max(0, state.outstanding - 1)
            default:
                if message.replyID != nil { state.outstanding = max(0, state.outstanding - 1) }
            }
        }
    }

    /// Whether a reply has been owed for longer than `limit`.
    func overdue(_ limit: Duration) -> Bool {
        state.withLock { $0.outstanding > 0 && ContinuousClock.now - $0.since > limit }
    }

    /// How often a live connection pings: a third of the daemon's idle timeout (of the read
    /// timeout when the daemon does not tell, or when that is shorter).
    func pingInterval(readTimeout: Duration) -> Duration {
        min(state.withLock { $0.idleTimeout } ?? readTimeout, readTimeout) / 3
    }
}

/// Hands a session to the thread pool: a connection's messages are handled one at a time.
final class ClientSessionBox: @unchecked Sendable {
    let value: ClientSession

    init(_ value: ClientSession) {
        self.value = value
    }
}
