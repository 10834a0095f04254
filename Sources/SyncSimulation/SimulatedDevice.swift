import SyncCore
import SyncSession
import SyncStore

/// One device replica: its store, its wall clock, whether it can reach the network, and the
/// sync conversation it is in, if any.
final class SimulatedDevice {
    let name: String
    let principal: Principal
    var store: SyncStore
    let clock: SkewedClock
    let crashes: CrashSwitch
    /// False while partitioned off the network.
    var online = true
    /// The connection of the sync in progress.
    var connection: Int?
    /// When the device next starts a sync on its own.
    var nextSyncAt: Int64 = 0
    /// A copy of another device's store (same replica id).
    let isClone: Bool
    /// The replica id the oracle knows the device's writes under.
    var knownReplica: ReplicaID

    init(name: String, principal: Principal, store: SyncStore, clock: SkewedClock, crashes: CrashSwitch, isClone: Bool)
    {
        self.name = name
        self.principal = principal
        self.store = store
        self.clock = clock
        self.crashes = crashes
        self.isClone = isClone
        knownReplica = store.replicaID
    }

    var token: String { "\(principal.role):\(principal.subject)" }
}

/// One sync conversation in flight between a device and the daemon.
final class SimulatedConnection {
    let id: Int
    let device: Int
    let client: ClientSession
    let daemon: DaemonSession
    /// The daemon run this connection was made to; a daemon crash or restore ends it.
    let daemonRun: Int
    var lastActivity: Int64
    var open = true
    /// The daemon sent a closing error; its lines still arrive, the client's are dropped.
    var closedByDaemon = false
    /// The batch the daemon read ahead for this connection's next pull.
    var readAhead: ReadAhead.Batch?

    init(id: Int, device: Int, client: ClientSession, daemon: DaemonSession, daemonRun: Int, now: Int64) {
        self.id = id
        self.device = device
        self.client = client
        self.daemon = daemon
        self.daemonRun = daemonRun
        lastActivity = now
    }
}

/// A line in flight.
struct Packet {
    let deliverAt: Int64
    /// Tie-breaker: the order packets were sent in.
    let order: Int
    let connection: Int
    let toDaemon: Bool
    let line: [UInt8]
}
