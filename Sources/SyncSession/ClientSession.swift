import SyncCore
import SyncProtocol
import SyncStore

/// The client's side of one sync conversation, as a state machine without network I/O.
///
/// `start()` gives the hello; each daemon message in gives the messages to send next and what
/// happened. After sending those messages the driver calls `finishPendingWork()`: a pulled
/// batch with more to come is merged there, so the next batch is already on its way while
/// this one is written (pull pipelining). The conversation pushes local changes in batches until none remain, then pulls
/// until caught up, then optionally stays subscribed. Every cursor is saved in the store in
/// the same transaction as the data it describes, so a cut anywhere resumes without loss.
public final class ClientSession {
    public struct Configuration: Sendable {
        public var token: String
        /// Records per push or pull.
        public var batchSize: Int
        /// Stay subscribed after catching up.
        public var subscribe: Bool
        /// Prefix of the store cursors and settings this peer's progress lives under.
        public var peerName: String

        /// Deliberate defects, for proving the simulation harness catches them. Never set
        /// outside that self-test.
        @_spi(Defects) public var defects: SessionDefects = []

        public init(token: String, batchSize: Int = 500, subscribe: Bool = false, peerName: String = "daemon") {
            self.token = token
            self.batchSize = batchSize
            self.subscribe = subscribe
            self.peerName = peerName
        }
    }

    /// What happened, for the driver to report or act on.
    public enum Event: Sendable {
        /// Send this message.
        case send(ClientMessage)
        /// A push batch was acknowledged.
        case pushed(sent: Int, accepted: Int, refused: [DaemonMessage.Refusal])
        /// A pulled or live batch was merged.
        case received(count: Int, summary: MergeSummary)
        /// Everything pending went up and everything new came down.
        case caughtUp(SyncReport)
    }

    /// Totals of one conversation.
    public struct SyncReport: Sendable, Hashable {
        public var sent = 0
        public var received = 0
        public var conflicts = 0
        public var refused = 0
        /// Whether the daemon had lost writes of ours (restored from a backup) and got them again.
        public var repushed = false
    }

    private enum Phase {
        case idle
        case greeting
        /// A push is out: the push cursor after it, and per record its key and the counters
        /// of our own writes it holds.
        case pushing(nextCursor: Int64, keys: [(collection: String, key: String)], ownWrites: [[Int64]])
        case pulling
        case subscribing
        case live
        case done
    }

    private let store: SyncStore
    private let configuration: Configuration
    /// The batch size, capped by what the daemon accepts.
    private var batchSize: Int
    /// The daemon's longest line (from `welcome`): a push must fit it.
    private var maximumLine = ProtocolLimits.defaultMaximumLine
    private var phase = Phase.idle
    private var nextID: Int64 = 0
    /// The request whose reply is awaited; replies to anything else are stale duplicates.
    private var awaiting: RequestID?
    private var pullCursor: Int64 = 0
    /// The daemon's epoch, from `welcome`.
    private var daemonEpoch: String?
    /// Local changes are being pushed from the live phase, which it returns to afterwards.
    private var pushingWhileLive = false
    /// A pulled batch whose merge waits for `finishPendingWork()`.
    private var deferredMerge: (records: [KeyedRecord], cursor: Int64)?
    /// The newest lineage entry the push in flight carries.
    private var pushingLineage: LineageEntry?
    /// Push tips another conversation of this store cannot have made meanwhile: those saved
    /// before this one began, and those it sent.
    private var ownTips = Set<String>()
    /// Records this conversation made again after a `clock_ahead` refusal.
    private var restampedRecords = Set<RecordKey>()
    public private(set) var report = SyncReport()

    public init(store: SyncStore, configuration: Configuration) {
        self.store = store
        self.configuration = configuration
        batchSize = configuration.batchSize
    }

    var pushCursorName: String { configuration.peerName + ".push" }
    var pullCursorName: String { configuration.peerName + ".pull" }
    var epochName: String { configuration.peerName + ".epoch" }
    var pushedEpochName: String { configuration.peerName + ".pushed_epoch" }
    var pushedSeqName: String { configuration.peerName + ".pushed_seq" }
    var lineageName: String { configuration.peerName + ".lineage" }
    var lineageSentName: String { configuration.peerName + ".lineage_sent" }
    var sentName: String { configuration.peerName + ".sent" }

    /// Whether the session is caught up and streaming live changes.
    public var isLive: Bool {
        if case .live = phase { return true }
        return false
    }

    /// The first message: hello with where the last pull stopped.
    public func start() throws(SessionError) -> [Event] {
        let epoch = try storeCall { try store.setting(named: epochName) }
        let seq = try storeCall { try store.cursor(named: pullCursorName) }
        let pushedEpoch = try storeCall { try store.setting(named: pushedEpochName) }
        let pushedSeq = try storeCall { try store.cursor(named: pushedSeqName) }
        let lineage = try storeCall { PushLineage(try store.setting(named: lineageName)) }
        ownTips = Set(lineage.tips.map(\.token))
        // A store from before the setting says nothing: the daemon goes by the tips.
        let sent = try storeCall { try sentWrites() }
        let replica = try storeCall { try store.storedReplicaID() }
        let renamings = try storeCall {
            try store.renamings(ownOnly: true, limit: ProtocolLimits.maximumOwnRenamings)
        }
        phase = .greeting
        let hello = ClientMessage.Hello(
            id: makeID(), protocolVersion: ProtocolLimits.version, replica: replica, token: configuration.token,
            cursor: epoch.map { StreamCursor(epoch: $0, seq: seq) },
            pushed: pushedEpoch.map { StreamCursor(epoch: $0, seq: pushedSeq) }, lineage: lineage.tips,
            sent: sent, renamings: renamings.isEmpty ? nil : renamings)
        return [.send(.hello(hello))]
    }

    /// Handles one daemon message.
    public func receive(_ message: DaemonMessage) throws(SessionError) -> [Event] {
        // A reply (or error) to another request than the one outstanding is a stale
        // duplicate from the transport: acting on it could acknowledge what never arrived.
        if let id = message.replyID, id != awaiting { return [] }
        if case .changes(_, _, _, _, let renamings) = message, !renamings.isEmpty {
            // Before the batch's records, which may hold writes these moved.
            _ = try storeCall { try store.learn(renamings) }
        }
        switch (phase, message) {
        case (_, .error(let error)) where error.code == .replicaDiverged:
            phase = .done
            throw try diverged(error)
        case (_, .error(let error)):
            phase = .done
            throw SessionError(error)
        case (.greeting, .welcome(let welcome)):
            return try welcomed(welcome)
        case (.pushing(let nextCursor, let keys, let ownWrites), .pushed(let result)):
            return try pushed(result, nextCursor: nextCursor, keys: keys, ownWrites: ownWrites)
        case (.pulling, .changes(.some, let records, let cursor, true, _)):
            pullCursor = cursor
            deferredMerge = (records, cursor)
            return [pullRequest()]
        case (.pulling, .changes(.some, let records, let cursor, false, _)):
            return try merge(records, cursor: cursor) + (try caughtUp())
        case (.subscribing, .subscribed):
            phase = .live
            return [.caughtUp(report)]
        case (.subscribing, .changes(nil, let records, let cursor, _, _)),
            (.live, .changes(nil, let records, let cursor, _, _)),
            (.pushing, .changes(nil, let records, let cursor, _, _)):
            return try merge(records, cursor: cursor)
        case (_, .pong):
            return []
        default:
            phase = .done
            throw SessionError(code: "unexpected_message", "the daemon sent \(message) out of turn")
        }
    }

    /// While live, pushes local changes made since (a kiosk command beside a running agent);
    /// nothing when there are none or the session is busy.
    public func pushIfPending() throws(SessionError) -> [Event] {
        guard case .live = phase else { return [] }
        let pushCursor = try storeCall { try store.cursor(named: pushCursorName) }
        guard try storeCall({ try store.latestSeq() }) > pushCursor else { return [] }
        pushingWhileLive = true
        return try pushNext()
    }

    /// Does the store work a `receive` left for after its messages were sent.
    public func finishPendingWork() throws(SessionError) -> [Event] {
        guard let (records, cursor) = deferredMerge else { return [] }
        deferredMerge = nil
        return try merge(records, cursor: cursor)
    }

    private func welcomed(_ welcome: DaemonMessage.Welcome) throws(SessionError) -> [Event] {
        // A daemon restored to before our last acknowledged push lost writes we pushed:
        // push everything again; merges are idempotent.
        var cursors = [pullCursorName: welcome.cursor.seq]
        var settings = [epochName: welcome.cursor.epoch]
        if welcome.repush {
            // Start over from the first change, and from a position this daemon has; send the
            // lineage log again too (the daemon lost the entries with the writes).
            cursors[pushCursorName] = 0
            settings[lineageSentName] = "0"
            cursors[pushedSeqName] = welcome.cursor.seq
            settings[pushedEpochName] = welcome.cursor.epoch
            report.repushed = true
        }
        try storeCall {
            try store.save(settings: settings, cursors: cursors)
            // Writes other copies moved, that this store took in before they did, move too.
            try store.learn(welcome.renamings)
            // Stamp by the daemon's clock: a write stamped too far ahead of it is refused.
            if let time = welcome.time { try store.setClock(peerMillis: time, at: store.nowMillis()) }
        }
        pullCursor = welcome.cursor.seq
        daemonEpoch = welcome.cursor.epoch
        batchSize = max(1, min(configuration.batchSize, welcome.maximumBatch))
        maximumLine = welcome.maximumLine
        return try pushNext()
    }

    private func pushNext() throws(SessionError) -> [Event] {
        // Read first: every write up to it is in the changes read next, or was pushed.
        let counter = try storeCall { try store.counter() }
        let pushCursor = try storeCall { try store.cursor(named: pushCursorName) }
        var batch = try storeCall { try store.changes(after: pushCursor, limit: batchSize) }
        let lineage = try lineageToPush()
        let pulled = try pulledPosition()
        // The line must fit the daemon's limit: a batch of long records (appeals) goes in
        // smaller pushes.
        var records = KeyedRecord.groupedInRuns(batch.records)
        while !records.isEmpty, push(records, lineage: lineage, pulled: pulled).line().count - 1 > maximumLine {
            if records.count == 1 {
                try flagTooLong(records[0], pushCursor: batch.nextCursor)
                return try pushNext()
            }
            batch = try storeCall { try store.changes(after: pushCursor, limit: records.count / 2) }
            records = KeyedRecord.groupedInRuns(batch.records)
        }
        guard !records.isEmpty else {
            if batch.nextCursor != pushCursor {
                try storeCall { try store.setCursor(pushCursorName, to: batch.nextCursor) }
            }
            try saveAllSent(through: counter)
            if pushingWhileLive {
                // Live: the subscription brings whatever else changed; no pull needed.
                pushingWhileLive = false
                phase = .live
                return []
            }
            phase = .pulling
            return [pullRequest()]
        }
        // Grouped to travel in long runs; refusals name positions in this order.
        let replica = try storeCall { try store.storedReplicaID() }
        phase = .pushing(
            nextCursor: batch.nextCursor, keys: records.map { ($0.collection, $0.key) },
            ownWrites: records.map { Self.counters(of: replica, in: $0.state) })
        if configuration.defects.contains(.pushDoneOnSend) {
            try storeCall { try store.setCursor(pushCursorName, to: batch.nextCursor) }
        }
        report.sent += records.count
        try saveTip(of: lineage)
        return [.send(push(records, lineage: lineage, pulled: pulled, id: makeID()))]
    }

    /// A push message; without `id`, one with the longest id this conversation could use
    /// (for measuring the line).
    private func push(
        _ records: [KeyedRecord], lineage: [LineageEntry], pulled: StreamCursor?, id: RequestID = .integer(.max)
    ) -> ClientMessage {
        .push(id: id, records: records, lineage: lineage, pulled: pulled)
    }

    /// Where this store's pull stands in the daemon's epoch, read after a push's records:
    /// what they hold of others came from before there (another conversation of this store
    /// may have pulled further than this one). Nil when the store's cursor is of another epoch.
    private func pulledPosition() throws(SessionError) -> StreamCursor? {
        guard let daemonEpoch else { return nil }
        let (epoch, seq) = try storeCall {
            (try store.setting(named: epochName), try store.cursor(named: pullCursorName))
        }
        guard epoch == daemonEpoch else { return nil }
        return StreamCursor(epoch: daemonEpoch, seq: max(seq, pullCursor))
    }

    /// A record whose push alone is longer than the daemon's line: it stays here, flagged
    /// `line_too_long`, and pushing goes on after it (an edit makes it a change again).
    private func flagTooLong(_ record: KeyedRecord, pushCursor: Int64) throws(SessionError) {
        let message = "the record alone makes a push longer than the daemon's \(maximumLine)-byte line"
        try storeCall {
            try store.recordRefusals(
                [(record.collection, record.key, ProtocolError.Code.lineTooLong.rawValue, message)], accepted: [])
            try store.setCursor(pushCursorName, to: pushCursor)
        }
        report.refused += 1
    }

    private func pushed(
        _ result: DaemonMessage.PushResult, nextCursor: Int64, keys: [(collection: String, key: String)],
        ownWrites: [[Int64]]
    ) throws(SessionError) -> [Event] {
        let refusedIndexes = Set(result.refused.map(\.index))
        let accepted = keys.enumerated().filter { !refusedIndexes.contains($0.offset) }.map(\.element)
        let restamped = try restampClockAhead(result.refused)
        let flagged = result.refused.filter { !restamped.contains(RecordKey($0.collection, $0.key)) }
        try storeCall {
            try store.recordRefusals(flagged.map { ($0.collection, $0.key, $0.code, $0.message) }, accepted: accepted)
            var settings = [pushedEpochName: result.cursor.epoch]
            if let tip = pushingLineage { settings[lineageSentName] = String(tip.counter) }
            var sent = try sentWrites() ?? CounterRanges()
            let before = sent
            for (index, counters) in ownWrites.enumerated() where !refusedIndexes.contains(index) {
                sent.insert(contentsOf: counters)
            }
            if sent != before { settings[sentName] = sent.text }
            try store.save(settings: settings, cursors: [pushCursorName: nextCursor, pushedSeqName: result.cursor.seq])
        }
        report.refused += flagged.count
        return [.pushed(sent: keys.count, accepted: result.accepted, refused: result.refused)] + (try pushNext())
    }

    /// Records refused `clock_ahead` hold our writes stamped by a clock that ran ahead of the
    /// daemon's: each is made again as a new write stamped now (the clock was set by the
    /// daemon's at welcome), so it goes up in the next push and nothing is lost. Once per
    /// record and conversation; those restamped are returned.
    private func restampClockAhead(_ refused: [DaemonMessage.Refusal]) throws(SessionError) -> Set<RecordKey> {
        let candidates = refused.filter { $0.code == RefusalCode.clockAhead }
            .map { RecordKey($0.collection, $0.key) }.filter { !restampedRecords.contains($0) }
        guard !candidates.isEmpty else { return [] }
        let done: [RecordKey] = try storeCall {
            let now = try store.clockNowMillis()
            return try store.write { transaction in
                try candidates.filter { try transaction.restamp($0.collection, key: $0.key, after: now) }
            }
        }
        restampedRecords.formUnion(done)
        // Each goes up again in the next push: count it once.
        report.sent -= done.count
        return Set(done)
    }

    /// The counters of `replica`'s writes that `state` holds.
    private static func counters(of replica: ReplicaID, in state: RecordState) -> [Int64] {
        state.fields.flatMap { $0.register.values.lazy.filter { $0.dot.replica == replica }.map(\.dot.counter) }
    }

    /// Our writes the daemon accepted (the setting; nil before it was first saved).
    private func sentWrites() throws -> CounterRanges? {
        try store.setting(named: sentName).flatMap { CounterRanges(text: $0) }
    }

    /// Nothing is left to push: every write up to `counter` (read before the changes) went
    /// up and was accepted, but for those of records the daemon refused, which count as
    /// never sent.
    private func saveAllSent(through counter: Int64) throws(SessionError) {
        try storeCall {
            let replica = try store.storedReplicaID()
            var refused = Set<Int64>()
            for record in try store.refusals() {
                guard let state = try store.record(record.collection, key: record.key) else { continue }
                refused.formUnion(Self.counters(of: replica, in: state))
            }
            let sent = CounterRanges(through: counter, excluding: refused)
            guard sent != (try sentWrites() ?? CounterRanges()) else { return }
            try store.save(settings: [sentName: sent.text])
        }
    }

    /// The lineage log entries a push carries: those after the newest the daemon acknowledged
    /// (at most the newest 256).
    private func lineageToPush() throws(SessionError) -> [LineageEntry] {
        try storeCall {
            let acknowledged = Int64(try store.setting(named: lineageSentName) ?? "") ?? 0
            return try store.lineageLog(after: acknowledged, limit: ProtocolLimits.maximumLineageEntries)
        }
    }

    /// Saves the newest of a push's lineage `entries` as a push tip before the push is sent:
    /// the daemon may take it even if the reply is lost.
    private func saveTip(of entries: [LineageEntry]) throws(SessionError) {
        pushingLineage = entries.last
        guard let tip = entries.last else { return }
        ownTips.insert(tip.token)
        try storeCall {
            var lineage = PushLineage(try store.setting(named: lineageName))
            lineage.add(tip)
            try store.save(settings: [lineageName: lineage.encoded])
        }
    }

    /// Another device pushed under our replica id (a copy of this store): our writes after the
    /// newest write transaction both share (as the daemon's lineage shows) move to a new
    /// replica id, and the next conversation pushes them.
    private func diverged(_ error: ProtocolError) throws(SessionError) -> SessionError {
        // The daemon's newest entry is a tip another conversation of this same store saved
        // since this one began (an agent and a one-off sync): it pushed meanwhile. Nothing
        // diverged. (A clash met by this conversation's own push is no such case.)
        let tips = try storeCall { PushLineage(try store.setting(named: lineageName)).tips }
        if let newest = error.lineage?.last, tips.contains(newest), !ownTips.contains(newest.token) {
            return SessionError(
                code: SessionError.concurrentPush,
                "another sync of this store pushed meanwhile; this one stopped without changing anything: sync again")
        }
        let renaming = try storeCall {
            // Sharing no entry the daemon still keeps, nothing after the first write is known shared.
            let shared = try store.newestCommonEntry(with: error.lineage ?? []) ?? 0
            return try store.rekey(after: shared, clearing: [lineageName, lineageSentName, sentName])
        }
        var failure = SessionError(
            code: error.code.rawValue,
            "\(error.message); this device's writes after counter \(renaming.after) now go as replica \(renaming.new)")
        failure.renaming = renaming
        return failure
    }

    private func pullRequest() -> Event {
        .send(.pull(id: makeID(), cursor: pullCursor, limit: batchSize))
    }

    private func merge(_ records: [KeyedRecord], cursor: Int64) throws(SessionError) -> [Event] {
        let summary = try storeCall {
            if configuration.defects.contains(.cursorBeforeData) {
                try store.setCursor(pullCursorName, to: cursor)
                return try store.merge(records, echoCursor: pushCursorName)
            }
            return try store.merge(records, cursor: (pullCursorName, cursor), echoCursor: pushCursorName)
        }
        pullCursor = cursor
        if !summary.clashes.isEmpty {
            // Pulled states clashing with ours (one replica id on two devices): ours stays,
            // flagged, never overwritten.
            try storeCall {
                try store.recordRefusals(
                    summary.clashes.map {
                        (records[$0.index].collection, records[$0.index].key, $0.error.code.rawValue, $0.error.message)
                    },
                    accepted: [])
            }
        }
        try reviewRefusals(records)
        report.received += records.count
        report.conflicts += summary.conflicts
        return [.received(count: records.count, summary: summary)]
    }

    /// A refused record is settled once the daemon holds everything this store holds of it
    /// (its author pushed the writes again, say): its flag goes. One refused as a clash that
    /// the daemon's record no longer matches goes up again: the copies may have moved since.
    private func reviewRefusals(_ records: [KeyedRecord]) throws(SessionError) {
        let flagged = try storeCall { try store.refusals() }
        guard !flagged.isEmpty else { return }
        let codes = Dictionary(flagged.map { ("\($0.collection)/\($0.key)", $0.code) }) { first, _ in first }
        var settled: [(collection: String, key: String)] = []
        var retried: [(collection: String, key: String)] = []
        for record in records {
            guard let code = codes["\(record.collection)/\(record.key)"] else { continue }
            if try storeCall({ try store.record(record.collection, key: record.key) }) == record.state {
                settled.append((record.collection, record.key))
            } else if code == StoreError.Code.replicaClash.rawValue {
                retried.append((record.collection, record.key))
            }
        }
        if !settled.isEmpty { try storeCall { try store.recordRefusals([], accepted: settled) } }
        if !retried.isEmpty { try storeCall { try store.requeue(retried) } }
    }

    private func caughtUp() throws(SessionError) -> [Event] {
        try storeCall { try store.save(settings: [configuration.peerName + ".synced_at": String(store.nowMillis())]) }
        if configuration.subscribe {
            phase = .subscribing
            return [.send(.subscribe(id: makeID(), cursor: pullCursor))]
        }
        phase = .done
        return [.caughtUp(report)]
    }

    private func makeID() -> RequestID {
        nextID += 1
        awaiting = .integer(nextID)
        return .integer(nextID)
    }

    private func storeCall<T>(_ body: () throws -> T) throws(SessionError) -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw SessionError(error)
        } catch {
            throw SessionError(code: "internal_error", "\(error)")
        }
    }
}

/// Deliberately broken client behaviours, each one a bug the simulation harness must catch.
@_spi(Defects) public struct SessionDefects: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The pull cursor is saved in its own transaction before the data it describes.
    public static let cursorBeforeData = SessionDefects(rawValue: 1)
    /// A push batch counts as delivered when sent, not when the daemon acknowledges it.
    public static let pushDoneOnSend = SessionDefects(rawValue: 2)
}
