import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SyncCore
import SyncProtocol
import SyncSession
import SyncStore
import SyncTransport
import Synchronization

/// The sync daemon: a replica with a TCP listener. Each connection runs a `DaemonSession`;
/// store work runs on a small thread pool so no event loop ever blocks on SQLite; subscribed
/// connections are woken when changes land. A `Service`: on graceful shutdown it stops
/// accepting, lets the requests in flight finish, and closes the store.
public final class SyncDaemon: Service, Sendable {
    public let configuration: DaemonConfiguration
    public let store: SyncStore
    public let authority: TokenAuthority
    private let policy: any AccessPolicy
    private let logger: Logger
    private let epoch: String
    private let hub = ChangeHub()
    private let pool = NIOThreadPool(numberOfThreads: 2)
    private let connections = Mutex<Connections>(Connections())
    private let listening = Mutex<[CheckedContinuation<SocketAddress, Never>]>([])
    private let boundAddress = Mutex<SocketAddress?>(nil)

    /// Opens (creating on first start) the data directory and its store, and starts an epoch.
    public init(configuration: DaemonConfiguration, schema: Schema, policy: any AccessPolicy, logger: Logger) throws {
        self.configuration = configuration
        self.policy = policy
        self.logger = logger
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        var options = StoreOptions(registersDots: true)
        options.maximumClockAhead = configuration.maximumClockAhead
        store = try SyncStore(.file(configuration.storePath), schema: schema, options: options)
        // Pulls read each principal's scope through these indexes, not the whole store.
        try store.addIndexes(policy.scopeIndexes)
        authority = try TokenAuthority.loadOrCreate(
            at: configuration.secretPath, revocations: try RevocationList(path: configuration.revocationsPath))
        epoch = try store.startEpoch()
    }

    /// The address the daemon listens on, once bound.
    public func listeningAddress() async -> SocketAddress {
        if let address = boundAddress.withLock({ $0 }) { return address }
        return await withCheckedContinuation { continuation in
            let address = boundAddress.withLock { address -> SocketAddress? in
                if address == nil { listening.withLock { $0.append(continuation) } }
                return address
            }
            if let address { continuation.resume(returning: address) }
        }
    }

    public func run() async throws {
        pool.start()
        let maximumLine = configuration.maximumLine
        let limits = ConnectionDeadlines.Limits(
            hello: .init(configuration.helloTimeout), idle: .init(configuration.idleTimeout),
            line: .init(configuration.lineTimeout))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
                let deadlines = ConnectionDeadlines(limits: limits) { expiry in
                    ByteBuffer(bytes: DaemonMessage.error(self.timedOut(expiry, peer: peer)).line())
                }
                return channel.eventLoop.makeCompletedFuture {
                    try LineFraming.wrap(channel, maximumLine: maximumLine, deadlines: deadlines)
                }
            }
        guard let address = server.channel.localAddress else {
            throw SessionError(code: "bind_failed", "no local address")
        }
        let waiting = boundAddress.withLock { bound in
            bound = address
            return listening.withLock { waiting in
                defer { waiting.removeAll() }
                return waiting
            }
        }
        for continuation in waiting { continuation.resume(returning: address) }
        logger.info("listening", metadata: ["sync.address": "\(address)", "sync.epoch": "\(epoch)"])

        try await withGracefulShutdownHandler {
            let poller = Task { await self.pollForOutsideWrites() }
            defer { poller.cancel() }
            // Connections are left to finish: the group waits for them after the listener closes.
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
                hub.finishAll()
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections, finishing requests in flight")
            server.channel.close(promise: nil)
            self.hub.finishAll()
            // Idle connections (subscribers too) close now; busy ones right after answering
            // their request. Each is told why first.
            let idle = self.connections.withLock { connections in
                connections.shuttingDown = true
                return connections.open.filter { !connections.busy.contains($0.key) }.map(\.value.channel)
            }
            for channel in idle { Self.close(channel, with: Self.stopping) }
        }
        try? await pool.shutdownGracefully()
        try store.close()
        logger.info("stopped; store closed")
    }

    /// Wakes subscribers when another process (an import) has written to the store; closes
    /// connections whose token was revoked (`yongai-syncd revoke`) or has expired.
    private func pollForOutsideWrites() async {
        var seen = (try? store.latestSeq()) ?? 0
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.pollInterval)
            do {
                try authority.revocations?.reload()
            } catch {
                logger.error("cannot read the revocations", metadata: ["sync.error": "\(error)"])
            }
            closeRefusedTokens()
            guard let latest = try? await pool.runIfActive({ try self.store.latestSeq() }) else { continue }
            if latest != seen {
                seen = latest
                hub.notify()
            }
        }
    }

    /// Closes, with the reason, every open connection whose token no longer passes.
    private func closeRefusedTokens() {
        let greeted = connections.withLock { $0.open.filter { $0.value.payload != nil && !$0.value.closing } }
        for (id, connection) in greeted {
            guard let payload = connection.payload else { continue }
            do {
                try authority.check(payload)
            } catch {
                connections.withLock { $0.open[id]?.closing = true }
                let code = ProtocolError.Code(error.code)
                logger.warning(
                    "closing a connection: its token no longer passes",
                    metadata: [
                        "sync.peer": "\(connection.peer)", "sync.principal": "\(payload.principal)",
                        "sync.error": "\(error)",
                    ])
                Self.close(connection.channel, with: ProtocolError(code, error.message))
            }
        }
    }

    /// Sends `error` as the connection's last line, then closes it.
    private static func close(_ channel: any Channel, with error: ProtocolError) {
        channel.writeAndFlush(ByteBuffer(bytes: DaemonMessage.error(error).line())).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private static let stopping = ProtocolError(.shuttingDown, "the daemon is stopping; connect again later")

    /// The error sent when a connection ran out of time (and logs it).
    private func timedOut(_ expiry: ConnectionDeadlines.Expiry, peer: String) -> ProtocolError {
        let message =
            switch expiry {
            case .hello: "no hello within \(configuration.helloTimeout)"
            case .idle: "no request within \(configuration.idleTimeout); ping to stay connected"
            case .line: "a line took longer than \(configuration.lineTimeout) to arrive"
            }
        logger.warning("closing a connection: \(message)", metadata: ["sync.peer": "\(peer)"])
        return ProtocolError(.timeout, message)
    }

    private func serve(_ connection: LineChannel) async {
        let channel = connection.channel
        let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
        let id = ObjectIdentifier(channel)
        let maximum = configuration.maximumConnections
        let refusal = connections.withLock { connections -> ProtocolError? in
            // Accepted as the daemon began to stop: it is not among those told at shutdown.
            if connections.shuttingDown { return Self.stopping }
            guard connections.admit(id, OpenConnection(channel: channel, peer: peer), maximum: maximum) else {
                return ProtocolError(.busy, "the daemon holds its most connections (\(maximum)); try again later")
            }
            return nil
        }
        if let refusal {
            if refusal.code == .busy {
                logger.warning(
                    "refusing a connection: at the connection cap",
                    metadata: ["sync.peer": "\(peer)", "sync.cap": "\(maximum)"])
            }
            try? await connection.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(bytes: DaemonMessage.error(refusal).line()))
            }
            return
        }
        defer { connections.withLock { $0.remove(id) } }
        let token = TokenRecorder(authority)
        let session = SessionBox(
            DaemonSession(
                store: store, policy: policy, authenticator: token,
                configuration: .init(
                    epoch: epoch, maximumLine: configuration.maximumLine, maximumBatch: configuration.maximumBatch,
                    maximumClockAhead: configuration.maximumClockAhead,
                    idleTimeoutMillis: configuration.idleTimeout.milliseconds)))
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingDiscardingTaskGroup { group in
                    // The next batch of a pull with more to come, read while the client takes in this one.
                    var readAhead: Task<ReadAhead.Batch?, Never>?
                    do {
                        for try await frame in inbound {
                            guard connections.withLock({ $0.begin(id) }) else { break }
                            let ahead = await readAhead?.value
                            readAhead = nil
                            var output: DaemonSession.Output
                            let wasGreeted = session.value.reader != nil
                            if frame.readableBytes > configuration.maximumLine {
                                output = Self.tooLong(configuration.maximumLine)
                            } else {
                                output = try await pool.runIfActive {
                                    frame.withUnsafeReadableBytes { session.value.handle(line: $0, readAhead: ahead) }
                                }
                            }
                            if !wasGreeted, let refusal = greet(id, token: token, output: output, peer: peer) {
                                output = DaemonSession.Output(messages: [.error(refusal)], close: true)
                            }
                            for line in output.lines {
                                try await outbound.write(ByteBuffer(bytes: line))
                            }
                            let greeted = !wasGreeted && session.value.reader != nil && !output.close
                            channel.triggerUserOutboundEvent(
                                greeted ? ConnectionDeadlines.Event.greeted : .answered, promise: nil)
                            if let next = output.readAhead, !output.close {
                                readAhead = Task { try? await pool.runIfActive { next.read() } }
                            }
                            if output.changedStore { hub.notify() }
                            if let cursor = output.subscription, let reader = session.value.reader {
                                group.addTask { try await self.feed(reader, from: cursor, to: outbound) }
                            }
                            let stopping = connections.withLock { $0.end(id) }
                            if stopping && !output.close {
                                try await outbound.write(ByteBuffer(bytes: DaemonMessage.error(Self.stopping).line()))
                            }
                            if output.close || stopping { break }
                        }
                    } catch is ByteToMessageDecoderError.PayloadTooLargeError {
                        for message in Self.tooLong(configuration.maximumLine).messages {
                            try? await outbound.write(ByteBuffer(bytes: message.line()))
                        }
                    } catch {
                        _ = await readAhead?.value
                        throw error
                    }
                    // No read outlives its connection (the store may be closing).
                    _ = await readAhead?.value
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["sync.peer": "\(peer)", "sync.error": "\(error)"])
        }
    }

    /// After a hello: counts the connection for its principal (nil), or the refusal to send
    /// instead of the welcome (over the per-principal cap), logging refused tokens.
    private func greet(_ id: ObjectIdentifier, token: TokenRecorder, output: DaemonSession.Output, peer: String)
        -> ProtocolError?
    {
        guard case .welcome? = output.messages.first, let payload = token.payload else {
            if case .error(let error)? = output.messages.first,
                [.badToken, .tokenExpired, .tokenRevoked].contains(error.code)
            {
                logger.warning(
                    "refusing a token", metadata: ["sync.peer": "\(peer)", "sync.error": "\(error)"])
            }
            return nil
        }
        let maximum = configuration.maximumConnectionsPerPrincipal
        guard connections.withLock({ $0.greet(id, payload, maximum: maximum) }) else {
            logger.warning(
                "refusing a connection: at the per-principal cap",
                metadata: ["sync.peer": "\(peer)", "sync.principal": "\(payload.principal)", "sync.cap": "\(maximum)"])
            return ProtocolError(
                .busy, "\(payload.principal) holds its most connections (\(maximum)); close one or try again later")
        }
        return nil
    }

    private static func tooLong(_ limit: Int) -> DaemonSession.Output {
        DaemonSession.Output(
            messages: [.error(ProtocolError(.lineTooLong, "a line may hold at most \(limit) bytes"))], close: true)
    }

    /// Streams changes in the subscriber's scope after `cursor`, waking whenever the store may
    /// have new ones.
    private func feed(_ reader: ScopedReader, from start: Int64, to outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>)
        async throws
    {
        let (id, wakeUps) = hub.listen()
        defer { hub.stopListening(id) }
        var cursor = start
        let limit = configuration.maximumBatch
        for await _ in wakeUps {
            var more = true
            while more {
                let from = cursor
                let maximumLine = configuration.maximumLine
                let batch: ScopedReader.Batch
                let line: [UInt8]
                do {
                    (batch, _, line) = try await pool.runIfActive {
                        try reader.changes(id: nil, after: from, limit: limit, maximumLine: maximumLine)
                    }
                } catch let error as StoreError where error.code == .replicaDiverged {
                    // Another device pushed under this replica id: say so, then end the feed.
                    if let wire = try? reader.lineage?.protocolError(error, id: nil, store: reader.store) {
                        try await outbound.write(ByteBuffer(bytes: DaemonMessage.error(wire).line()))
                    }
                    throw error
                }
                if !batch.records.isEmpty { try await outbound.write(ByteBuffer(bytes: line)) }
                cursor = batch.cursor
                more = batch.more
            }
        }
    }
}

/// One open connection: its channel, its peer, and once greeted its token.
struct OpenConnection {
    let channel: any Channel
    let peer: String
    var payload: TokenPayload?
    /// Being closed for its token: told once.
    var closing = false
}

/// The daemon's open connections and which of them are handling a request.
struct Connections {
    var open: [ObjectIdentifier: OpenConnection] = [:]
    var busy: Set<ObjectIdentifier> = []
    var shuttingDown = false
    /// Greeted connections per principal.
    var perPrincipal: [Principal: Int] = [:]

    /// Counts a new connection in; false (not counted) when `maximum` are open.
    mutating func admit(_ id: ObjectIdentifier, _ connection: OpenConnection, maximum: Int) -> Bool {
        guard open.count < maximum else { return false }
        open[id] = connection
        return true
    }

    /// Counts a greeted connection for its principal; false (not counted) when the principal
    /// has `maximum` open.
    mutating func greet(_ id: ObjectIdentifier, _ payload: TokenPayload, maximum: Int) -> Bool {
        guard perPrincipal[payload.principal, default: 0] < maximum else { return false }
        perPrincipal[payload.principal, default: 0] += 1
        open[id]?.payload = payload
        return true
    }

    mutating func remove(_ id: ObjectIdentifier) {
        if let principal = open.removeValue(forKey: id)?.payload?.principal {
            perPrincipal[principal, default: 1] -= 1
            if perPrincipal[principal] == 0 { perPrincipal[principal] = nil }
        }
        busy.remove(id)
    }

    /// Marks a request started; false when the daemon is shutting down.
    mutating func begin(_ id: ObjectIdentifier) -> Bool {
        guard !shuttingDown else { return false }
        busy.insert(id)
        return true
    }

    /// Marks a request answered; true when the connection should now close.
    mutating func end(_ id: ObjectIdentifier) -> Bool {
        busy.remove(id)
        return shuttingDown
    }
}

/// A connection's authenticator: checks with the daemon's authority and keeps the payload of
/// the token it passed, so the daemon can count and later re-check the connection.
final class TokenRecorder: Authenticator, Sendable {
    private let authority: TokenAuthority
    private let recorded = Mutex<TokenPayload?>(nil)

    init(_ authority: TokenAuthority) {
        self.authority = authority
    }

    var payload: TokenPayload? { recorded.withLock { $0 } }

    func principal(for token: String) throws(SessionError) -> Principal {
        let payload = try authority.verify(token)
        recorded.withLock { $0 = payload }
        return payload.principal
    }
}

/// Hands a session to the thread pool. A connection's requests run one at a time, so the
/// session is never used by two threads at once.
final class SessionBox: @unchecked Sendable {
    let value: DaemonSession

    init(_ value: DaemonSession) {
        self.value = value
    }
}
