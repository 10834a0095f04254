import SyncCore
import SyncProtocol
import SyncStore

/// The daemon's side of one connection, as a state machine without network I/O: a line in,
/// the lines to send and what to do next out. The NIO daemon and the simulator both pump
/// their connections through it.
public final class DaemonSession {
    /// What the daemon settles once, for every connection.
    public struct Configuration: Sendable {
        /// The epoch this daemon run serves (see `SyncStore.startEpoch`).
        public var epoch: String
        public var maximumLine: Int
        public var maximumBatch: Int
        /// How far ahead of the daemon's wall clock a pushed write may be stamped, in ms; a
        /// record carrying a later new write is refused `clock_ahead`.
        public var maximumClockAhead: Int64
        /// The most renamings kept for one principal; more are not taken in.
        public var maximumRenamingsPerPrincipal: Int
        /// Told in `welcome.idle_timeout_ms` (the driver enforces it); nil: not told.
        public var idleTimeoutMillis: Int64?

        public init(
            epoch: String, maximumLine: Int = ProtocolLimits.defaultMaximumLine,
            maximumBatch: Int = ProtocolLimits.defaultMaximumBatch,
            maximumClockAhead: Int64 = StoreOptions.defaultMaximumClockAhead,
            maximumRenamingsPerPrincipal: Int = 8, idleTimeoutMillis: Int64? = nil
        ) {
            self.epoch = epoch
            self.maximumLine = maximumLine
            self.maximumBatch = maximumBatch
            self.maximumClockAhead = maximumClockAhead
            self.maximumRenamingsPerPrincipal = maximumRenamingsPerPrincipal
            self.idleTimeoutMillis = idleTimeoutMillis
        }
    }

    /// The result of handling one line.
    public struct Output: Sendable {
        /// Replies, in order.
        public var messages: [DaemonMessage] = [] {
            didSet { encoded = [] }
        }
        /// Replies already encoded (a batch is encoded to check its length), by position.
        private var encoded: [[UInt8]] = []
        /// Close the connection after sending.
        public var close = false
        /// The connection subscribed: stream changes after this cursor from now on.
        public var subscription: Int64?
        /// Records landed: other subscribers should look for changes.
        public var changedStore = false
        /// The pull the client will most likely send next: the driver may read it ahead.
        public var readAhead: ReadAhead?

        public init(
            messages: [DaemonMessage] = [], close: Bool = false, subscription: Int64? = nil, changedStore: Bool = false
        ) {
            self.messages = messages
            self.close = close
            self.subscription = subscription
            self.changedStore = changedStore
        }

        /// One reply already encoded as `line`.
        init(message: DaemonMessage, line: [UInt8]) {
            messages = [message]
            encoded = [line]
        }

        /// The replies as lines, newline included.
        public var lines: [[UInt8]] {
            encoded.count == messages.count ? encoded : messages.map { $0.line() }
        }
    }

    private let store: SyncStore
    private let policy: any AccessPolicy
    private let authenticator: any Authenticator
    private let configuration: Configuration
    /// Set by `hello`.
    public private(set) var reader: ScopedReader?
    private var clientReplica: ReplicaID?
    /// How far into the daemon's history the client can have read when it said hello.
    private var seenAtHello: Int64 = 0
    /// Changes this connection's pushes produced that hold exactly what the client sent: its
    /// pulls skip them (the client has them), until its cursor passes them.
    private var echoes = Set<Int64>()

    public init(
        store: SyncStore, policy: any AccessPolicy, authenticator: any Authenticator, configuration: Configuration
    ) {
        self.store = store
        self.policy = policy
        self.authenticator = authenticator
        self.configuration = configuration
    }

    /// Handles one line (newline excluded). `readAhead` is the batch read for the last
    /// output's `readAhead`, if any: a pull it answers is answered with it.
    public func handle(line: UnsafeRawBufferPointer, readAhead: ReadAhead.Batch? = nil) -> Output {
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(line, maximumBatch: configuration.maximumBatch)
        } catch {
            return Output(messages: [.error(error)], close: error.closesConnection)
        }
        return handle(message, readAhead: readAhead)
    }

    /// Handles one decoded message; `readAhead` as in `handle(line:readAhead:)`.
    public func handle(_ message: ClientMessage, readAhead: ReadAhead.Batch? = nil) -> Output {
        do {
            switch message {
            case .hello(let hello):
                return try welcome(hello)
            case .ping(let id):
                return Output(messages: [.pong(id: id)])
            case .push(let id, let records, let lineage, let pulled):
                return try push(id: id, records: records, lineage: lineage, pulled: pulled, reader: try greeted(id))
            case .pull(let id, let cursor, let limit):
                let reader = try greeted(id)
                let limit = limit ?? configuration.maximumBatch
                var first: ScopedReader.Batch?
                if let readAhead, readAhead.cursor == cursor, readAhead.limit == limit {
                    first = try readAhead.result.get()
                }
                let (batch, message, line) = try reader.changes(
                    id: id, after: cursor, limit: limit, skipping: echoes, maximumLine: configuration.maximumLine,
                    first: first)
                if !echoes.isEmpty { echoes = echoes.filter { $0 > batch.cursor } }
                var output = Output(message: message, line: line)
                if batch.more {
                    output.readAhead = ReadAhead(reader: reader, cursor: batch.cursor, limit: limit, skipping: echoes)
                }
                return output
            case .subscribe(let id, let cursor):
                _ = try greeted(id)
                return Output(messages: [.subscribed(id: id, cursor: cursor)], subscription: cursor)
            }
        } catch let error as ProtocolError {
            return Output(messages: [.error(error.answering(message.id))], close: error.closesConnection)
        } catch let error as StoreError where error.code == .replicaDiverged {
            let wire =
                (try? reader?.lineage?.protocolError(error, id: message.id, store: store))
                ?? ProtocolError(.replicaDiverged, error.message, id: message.id)
            return Output(messages: [.error(wire)], close: true)
        } catch let error as StoreError {
            return Output(messages: [
                .error(ProtocolError(.internalError, "the store failed: \(error.message)", id: message.id))
            ])
        } catch {
            return Output(messages: [.error(ProtocolError(.internalError, "\(error)", id: message.id))])
        }
    }

    private func greeted(_ id: RequestID) throws(ProtocolError) -> ScopedReader {
        guard let reader else { throw ProtocolError(.helloRequired, "send hello before anything else", id: id) }
        return reader
    }

    private func welcome(_ hello: ClientMessage.Hello) throws -> Output {
        guard reader == nil else { throw ProtocolError(.alreadyGreeted, "this connection has already said hello") }
        guard hello.protocolVersion == ProtocolLimits.version else {
            throw ProtocolError(
                .unsupportedProtocol,
                "this daemon speaks protocol \(ProtocolLimits.version); the client speaks \(hello.protocolVersion)")
        }
        let principal: Principal
        do {
            principal = try authenticator.principal(for: hello.token)
        } catch {
            let code = ProtocolError.Code(error.code)
            throw ProtocolError([.tokenExpired, .tokenRevoked].contains(code) ? code : .badToken, error.message)
        }
        guard hello.replica != store.replicaID else {
            throw ProtocolError(.replicaClash, "the client uses the daemon's own replica id \(hello.replica)")
        }
        try learnRenamings(hello.renamings ?? [], of: hello.replica, by: principal)
        let (owner, seen) = try store.greet(
            hello.replica, owner: principal.binding, cursor: hello.cursor.map { ($0.epoch, $0.seq) })
        guard owner == principal.binding else {
            throw ProtocolError(
                .replicaClash, "replica id \(hello.replica) belongs to \(owner); a device keeps its own replica id")
        }
        seenAtHello = seen
        let resume = try hello.cursor.map { try store.resumePoint(epoch: $0.epoch, seq: $0.seq) } ?? 0
        // A daemon that no longer reaches where it acknowledged the client's last push was
        // restored from an older copy: the client must push everything again.
        let repush = try hello.pushed.map { try store.resumePoint(epoch: $0.epoch, seq: $0.seq) < $0.seq } ?? false
        let renamingCount = try store.renamingCount()
        let reader = ScopedReader(
            store: store, principal: principal, policy: policy,
            lineage: try hello.lineage.map { tips throws in
                try checkLineage(of: hello.replica, against: tips, sent: hello.sent)
            },
            renamingsTold: renamingCount)
        self.reader = reader
        clientReplica = hello.replica
        let welcome = DaemonMessage.Welcome(
            id: hello.id, protocolVersion: ProtocolLimits.version, daemon: store.replicaID, role: principal.role,
            subject: principal.subject, repush: repush,
            cursor: StreamCursor(epoch: configuration.epoch, seq: resume), maximumLine: configuration.maximumLine,
            maximumBatch: configuration.maximumBatch,
            renamings: try store.renamings(limit: ProtocolLimits.maximumRenamings),
            time: min(max(store.nowMillis(), 0), HybridTimestamp.maximumWallMillis),
            maximumClockAhead: configuration.maximumClockAhead, idleTimeoutMillis: configuration.idleTimeoutMillis)
        return Output(messages: [.welcome(welcome)])
    }

    /// Takes in the renamings a client made, to pass on to every device. Only a device's own
    /// moves are kept: the old id bound to the same principal (or, for a daemon that never met
    /// it, unbound with the client's own id as the new one), the new id bound to no other
    /// principal, no cycle through the renamings known, and at most
    /// `maximumRenamingsPerPrincipal` for one principal. The rest are dropped: a device cannot
    /// fill every welcome with renamings of replicas it does not own.
    private func learnRenamings(_ renamings: [ReplicaRenaming], of replica: ReplicaID, by principal: Principal)
        throws
    {
        guard !renamings.isEmpty else { return }
        var known = try store.renamings()
        func owned(_ id: ReplicaID) throws -> Bool {
            if id == replica { return true }
            return try store.owner(of: id) == principal.binding
        }
        var count = try known.filter { try owned($0.old) || (try owned($0.new)) }.count
        var own: [ReplicaRenaming] = []
        for renaming in renamings where !known.contains(renaming) {
            guard count < configuration.maximumRenamingsPerPrincipal else { break }
            let oldOwner = try store.owner(of: renaming.old)
            let newOwner = try store.owner(of: renaming.new)
            guard oldOwner == principal.binding || (oldOwner == nil && renaming.new == replica),
                newOwner == nil || newOwner == principal.binding,
                !Self.reaches(renaming.old, from: renaming.new, through: known)
            else { continue }
            own.append(renaming)
            known.append(renaming)
            count += 1
        }
        try store.learn(own)
    }

    /// Whether following `renamings` (old to new) from `start` comes to `target`.
    private static func reaches(_ target: ReplicaID, from start: ReplicaID, through renamings: [ReplicaRenaming])
        -> Bool
    {
        var seen: Set<ReplicaID> = [start]
        var frontier = [start]
        while let next = frontier.popLast() {
            if next == target { return true }
            for renaming in renamings where renaming.old == next && seen.insert(renaming.new).inserted {
                frontier.append(renaming.new)
            }
        }
        return false
    }

    /// A guard for a client that keeps its lineage: refused with `replica_diverged` when the
    /// daemon's newest entry for its replica is not one of its push `tips` (another device
    /// pushed under the id since), with the daemon's recent entries so it finds where the two
    /// parted.
    private func checkLineage(of replica: ReplicaID, against tips: [LineageEntry], sent: CounterRanges?) throws
        -> LineageGuard
    {
        let history = try store.lineage(of: replica)
        if let newest = history.last, !tips.contains(where: { $0.token == newest.token }) {
            throw ProtocolError(
                .replicaDiverged,
                "another device pushed as replica \(replica) since this one last did: a copy of its store is in use; this device's later writes must move to a new replica id",
                lineage: history)
        }
        return LineageGuard(replica: replica, expected: history.last?.token, tips: tips, sent: sent)
    }

    /// Checks each author's writes in a pushed record against that author's rights: the
    /// pusher's own against its token's principal, others' (passed along after a restore)
    /// against the principal their replica was bound to when it first synced.
    private func authorize(_ record: KeyedRecord, stored: RecordState?, pusher: Principal) throws(StoreError)
        -> AccessRefusal?
    {
        for (author, fields) in PushedChanges(record: record.state, stored: stored).byAuthor {
            let principal: Principal
            if author == clientReplica {
                principal = pusher
            } else if let owner = try store.owner(of: author), let bound = Principal(binding: owner) {
                principal = bound
            } else {
                return AccessRefusal(
                    code: RefusalCode.relayedWrite,
                    "\(record.collection) \(record.key) carries writes by replica \(author), which has never synced with this daemon"
                )
            }
            if let refusal = policy.refusal(toWrite: record, stored: stored, changing: fields, by: principal) {
                return refusal
            }
        }
        return nil
    }

    /// A record carrying a new write stamped further ahead of the daemon's clock than the
    /// bound: its writer's clock runs ahead (or lies). Taking it would drag every clock forward
    /// and let it win every conflict; its writer stamps it again by the daemon's time.
    private func clockAhead(_ record: KeyedRecord, stored: RecordState?) -> AccessRefusal? {
        let latest: HybridTimestamp?
        if case .singleWrite(let write) = record.body {
            latest = stored?.context.covers(write.dot) == true ? nil : write.timestamp
        } else {
            latest = record.state.latestTimestamp(notCoveredBy: stored?.context)
        }
        let now = store.nowMillis()
        guard let latest, latest.wallMillis > now, latest.wallMillis - now > configuration.maximumClockAhead else {
            return nil
        }
        return AccessRefusal(
            code: RefusalCode.clockAhead,
            "\(record.collection) \(record.key) carries a write stamped \(latest.wallMillis - now) ms ahead of the daemon's clock; the most is \(configuration.maximumClockAhead) ms: stamp it again by the daemon's time (welcome.time)"
        )
    }

    /// A live record missing a field its collection requires, or holding it empty.
    private func required(_ record: KeyedRecord, stored: RecordState?) -> AccessRefusal? {
        guard let schema = try? store.schema.collection(record.collection) else { return nil }
        let missing: String?
        if case .singleWrite(let write) = record.body, stored == nil {
            missing = schema.missingRequiredField(in: write)
        } else {
            missing = schema.missingRequiredField(in: record.state, merging: stored)
        }
        guard let missing else { return nil }
        return AccessRefusal(
            code: RefusalCode.missingField,
            "\(record.collection) \(record.key) needs \(missing) (present and not empty)")
    }

    /// Whether merging `incoming` would change `stored`, beyond moving writes a renaming
    /// moved (a copy of a store moved its pushed check-ins to its new replica id, say).
    private func changes(_ stored: RecordState, _ incoming: RecordState) throws(StoreError) -> Bool {
        guard stored.merged(with: incoming) != stored else { return false }
        let moved = try store.adopting(in: stored, shownBy: incoming)
        return moved == stored || moved.merged(with: incoming) != moved
    }

    /// Checks every record (schema, access, immutability), merges the rest in one
    /// transaction, and reports each refusal by its index.
    private func push(
        id: RequestID, records: [KeyedRecord], lineage: [LineageEntry]?, pulled: StreamCursor?, reader: ScopedReader
    ) throws -> Output {
        var refused: [DaemonMessage.Refusal] = []
        var accepted: [KeyedRecord] = []
        var acceptedIndexes: [Int] = []
        for (index, record) in records.enumerated() {
            func refuse(_ code: String, _ message: String) {
                refused.append(
                    .init(index: index, collection: record.collection, key: record.key, code: code, message: message))
            }
            do {
                try store.validate(record)
                let stored = try store.record(record.collection, key: record.key)
                if let refusal = clockAhead(record, stored: stored) ?? required(record, stored: stored) {
                    refuse(refusal.code, refusal.message)
                    continue
                }
                if let refusal = try authorize(record, stored: stored, pusher: reader.principal) {
                    refuse(refusal.code, refusal.message)
                    continue
                }
                if let stored, try store.isImmutable(record.collection), try changes(stored, record.state) {
                    refuse(
                        CoreError.Code.immutableRecord.rawValue,
                        "\(record.collection) \(record.key) already exists and cannot change")
                    continue
                }
                accepted.append(record)
                acceptedIndexes.append(index)
            } catch {
                refuse(error.code.rawValue, error.message)
            }
        }
        // How far the client can have read: at hello, or since (another conversation of its store).
        let seenThrough = max(seenAtHello, try pulled.map { try store.seenPoint(epoch: $0.epoch, seq: $0.seq) } ?? 0)
        let summary = try store.merge(accepted, lineage: reader.lineage?.claim(lineage ?? [], seenThrough: seenThrough))
        reader.lineage?.landed(lineage ?? [])
        echoes.formUnion(summary.echoes)
        for (position, error) in summary.clashes {
            let index = acceptedIndexes[position]
            refused.append(
                .init(
                    index: index, collection: records[index].collection, key: records[index].key,
                    code: error.code.rawValue,
                    message: error.message))
        }
        refused.sort { $0.index < $1.index }
        let result = DaemonMessage.PushResult(
            id: id, accepted: summary.new + summary.changed, unchanged: summary.unchanged, refused: refused,
            cursor: StreamCursor(epoch: configuration.epoch, seq: try store.latestSeq()))
        return Output(messages: [.pushed(result)], changedStore: summary.new + summary.changed > 0)
    }
}
