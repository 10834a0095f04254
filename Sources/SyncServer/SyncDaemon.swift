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
        authority = try TokenAuthority.loadOrCreate(at: configuration.secretPath)
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
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture { try LineFraming.wrap(channel, maximumLine: maximumLine) }
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
            // Idle connections close now; busy ones right after answering their request.
            let idle = self.connections.withLock { connections in
                connections.shuttingDown = true
                return connections.open.filter { !connections.busy.contains($0.key) }.map(\.value)
            }
            for channel in idle { channel.close(promise: nil) }
        }
        try? await pool.shutdownGracefully()
        try store.close()
        logger.info("stopped; store closed")
    }

    /// Wakes subscribers when another process (an import) has written to the store.
    private func pollForOutsideWrites() async {
        var seen = (try? store.latestSeq()) ?? 0
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.pollInterval)
            guard let latest = try? await pool.runIfActive({ try self.store.latestSeq() }) else { continue }
            if latest != seen {
                seen = latest
                hub.notify()
            }
        }
    }

    private func serve(_ connection: LineChannel) async {
        let channel = connection.channel
        let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
        let id = ObjectIdentifier(channel)
        connections.withLock { $0.open[id] = channel }
        defer { connections.withLock { _ = $0.open.removeValue(forKey: id) } }
        let session = SessionBox(
            DaemonSession(
                store: store, policy: policy, authenticator: authority,
                configuration: .init(
                    epoch: epoch, maximumLine: configuration.maximumLine, maximumBatch: configuration.maximumBatch,
                    maximumClockAhead: configuration.maximumClockAhead)))
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
                            let output: DaemonSession.Output
                            if frame.readableBytes > configuration.maximumLine {
                                output = Self.tooLong(configuration.maximumLine)
                            } else {
                                output = try await pool.runIfActive {
                                    frame.withUnsafeReadableBytes { session.value.handle(line: $0, readAhead: ahead) }
                                }
                            }
                            for line in output.lines {
                                try await outbound.write(ByteBuffer(bytes: line))
                            }
                            if let next = output.readAhead, !output.close {
                                readAhead = Task { try? await pool.runIfActive { next.read() } }
                            }
                            if output.changedStore { hub.notify() }
                            if let cursor = output.subscription, let reader = session.value.reader {
                                group.addTask { try await self.feed(reader, from: cursor, to: outbound) }
                            }
                            let stopping = connections.withLock { $0.end(id) }
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

/// The daemon's open connections and which of them are handling a request.
struct Connections {
    var open: [ObjectIdentifier: any Channel] = [:]
    var busy: Set<ObjectIdentifier> = []
    var shuttingDown = false

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

/// Hands a session to the thread pool. A connection's requests run one at a time, so the
/// session is never used by two threads at once.
final class SessionBox: @unchecked Sendable {
    let value: DaemonSession

    init(_ value: DaemonSession) {
        self.value = value
    }
}
