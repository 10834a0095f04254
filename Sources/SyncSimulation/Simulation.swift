import Foundation
import SyncCore
import SyncProtocol
@_spi(Defects) import SyncSession
@_spi(Defects) @_spi(Simulation) import SyncStore
import Synchronization
import YongaiDomain

/// A deterministic simulation of the whole system in one process: a daemon replica and device
/// replicas, each with its own SQLite store, talking through `SyncSession` over a simulated
/// network under a virtual clock. One seed drives every random choice, so a run replays
/// exactly; faults are injected as the options say; after the network heals, the invariants
/// are checked against the harness's own history of every write.
public final class Simulation {
    public let options: SimulationOptions
    let random: RandomSource
    let time = VirtualTime()
    var daemonStore: SyncStore
    let daemonClock: SkewedClock
    let daemonCrashes = CrashSwitch()
    var daemonUp = true
    var daemonRun = 0
    var epoch = ""
    var daemonBackAt: Int64 = 0
    var snapshot: SyncStore?
    var devices: [SimulatedDevice] = []
    var connections: [Int: SimulatedConnection] = [:]
    var nextConnection = 0
    var packets: [Packet] = []
    var packetOrder = 0
    var oracle = WriteOracle()
    var stats = SimulationReport.Counts()
    var faultsActive: Bool
    var trace: TraceWriter?
    var plot = ConvergencePlot()
    var nextSampleAt: Int64 = VirtualTime.start
    var keySerial = 0
    let stationCount: Int

    static let schema = YongaiCollections.schema
    let policy = YongaiAccessPolicy()

    public init(options: SimulationOptions, trace: TraceWriter? = nil) throws {
        self.options = options
        self.trace = trace
        random = RandomSource(seed: options.seed)
        faultsActive = true
        daemonClock = SkewedClock(time: time, skew: 0)
        var storeOptions = StoreOptions(registersDots: true, newReplicaID: ReplicaID(unchecked: "daemon"))
        storeOptions.maximumClockAhead = options.maximumClockAhead
        let generator = Mutex(SplitMix64(seed: ~options.seed))
        storeOptions.random = { generator.withLock { $0.next() } }
        storeOptions.defects = options.storeDefects
        let crashes = daemonCrashes
        storeOptions.crashBeforeCommit = { crashes.shouldCrash() }
        daemonStore = try SyncStore(.inMemory, schema: Self.schema, clock: daemonClock, options: storeOptions)
        stationCount = max(4, options.devices / 2)
        daemonCrashes.random = random
        try startDaemon()
        try importRegistry()
        for index in 0..<options.devices {
            let principal: Principal
            switch index {
            case 0: principal = Principal(role: "admin", subject: "ops")
            case 1: principal = Principal(role: "staff", subject: "desk")
            case _ where index % 2 == 0:
                principal = Principal(role: "station", subject: Self.stationKey((index / 2 - 1) % stationCount))
            default: principal = Principal(role: "rider", subject: String(format: "r-%03d", index))
            }
            try addDevice(name: String(format: "dev-%02d", index), principal: principal, copying: nil)
        }
    }

    static func stationKey(_ index: Int) -> String { String(format: "st-%03d", index + 1) }

    func log(_ event: String, _ fields: KeyValuePairs<String, JSONValue> = [:]) {
        trace?.write(time: time.now - VirtualTime.start, event: event, fields: fields)
    }

    private func startDaemon() throws {
        daemonRun += 1
        epoch = try daemonStore.startEpoch(id: "epoch-\(daemonRun)")
        daemonUp = true
        log("daemon_up", ["epoch": .string(epoch)])
    }

    /// The station registry, loaded as the admin's import on the daemon.
    private func importRegistry() throws {
        try daemonStore.write { transaction in
            for index in 0..<stationCount {
                try transaction.put("stations", key: Self.stationKey(index), Workload.station(index, random: random))
            }
        }
    }

    func addDevice(name: String, principal: Principal, copying source: SimulatedDevice?) throws {
        let skew: Int64 =
            options.faults.skewSeconds > 0
            ? random.int64(-Int64(options.faults.skewSeconds) * 1000...Int64(options.faults.skewSeconds) * 1000) : 0
        let clock = SkewedClock(time: time, skew: skew)
        let crashes = CrashSwitch()
        crashes.random = random
        var storeOptions = StoreOptions(newReplicaID: ReplicaID(unchecked: name))
        storeOptions.maximumClockAhead = options.maximumClockAhead
        // The device's own seeded source of lineage tokens and new replica ids.
        let generator = Mutex(SplitMix64(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(devices.count)))
        storeOptions.random = { generator.withLock { $0.next() } }
        storeOptions.defects = options.storeDefects
        storeOptions.crashBeforeCommit = { crashes.shouldCrash() }
        let store =
            try source?.store.copy(clock: clock, options: storeOptions)
            ?? SyncStore(.inMemory, schema: Self.schema, clock: clock, options: storeOptions)
        let device = SimulatedDevice(
            name: name, principal: principal, store: store, clock: clock, crashes: crashes, isClone: source != nil)
        device.nextSyncAt = time.now + random.int64(0...2_000)
        devices.append(device)
        log(
            "device", ["device": .string(name), "role": .string(principal.role), "subject": .string(principal.subject)])
    }

    /// The convergence chart of the run so far, as SVG.
    public func plotSVG() -> String {
        plot.svg(title: "yongai-sim seed \(options.seed): pending changes per replica and open conflicts")
    }

    /// Runs the workload under faults, heals the network, lets sync quiesce and checks the
    /// invariants.
    public func run() throws -> SimulationReport {
        configureCrashes(active: options.faults.crash)
        var operations = 0
        while operations < options.operations {
            time.now += random.int64(5...120)
            try step()
            if random.chance(0.5), try Workload.operate(self, device: random.int(0...(devices.count - 1))) {
                operations += 1
                stats.writes += 1
            }
            try injectFaults(progress: Double(operations) / Double(options.operations))
        }
        let rounds = try heal()
        let violations = try checkInvariants(quiesced: rounds != nil)
        return try SimulationReport(simulation: self, rounds: rounds, violations: violations)
    }

    /// One tick of the world: deliveries, time-outs, restarts and the syncs that are due.
    func step() throws {
        try deliverDuePackets()
        closeStalledConnections()
        if !daemonUp, time.now >= daemonBackAt {
            do {
                try startDaemon()
            } catch  where daemonCrashes.fired {
                // It died again while starting up; it will try again later.
                daemonCrashes.fired = false
                stats.crashes += 1
                daemonBackAt = time.now + random.int64(500...5_000)
            }
        }
        for (index, device) in devices.enumerated() where device.connection == nil && time.now >= device.nextSyncAt {
            device.nextSyncAt = time.now + random.int64(300...4_000)
            try startSync(index)
        }
        if time.now >= nextSampleAt {
            try plot.sample(self)
            nextSampleAt = time.now + 1_000
        }
    }

    func configureCrashes(active: Bool) {
        daemonCrashes.probability = active ? 0.01 : 0
        for device in devices { device.crashes.probability = active ? 0.02 : 0 }
    }

    /// Turns every fault off, brings everyone back, drains the network and syncs every device
    /// in rounds until a whole round changes nothing. Returns the rounds taken, or nil when
    /// sync never quiesced (a liveness failure).
    func heal() throws -> Int? {
        faultsActive = false
        configureCrashes(active: false)
        for device in devices { device.online = true }
        if !daemonUp { try startDaemon() }
        log("heal")
        var guardSteps = 0
        while !packets.isEmpty || connections.values.contains(where: \.open) {
            time.now += 50
            try deliverDuePackets()
            closeStalledConnections()
            guardSteps += 1
            if guardSteps > 10_000 { break }
        }
        for round in 1...8 {
            let daemonBefore = try daemonStore.latestSeq()
            var moved = 0
            for index in devices.indices {
                moved += try syncToCompletion(index)
            }
            try plot.sample(self)
            if moved == 0, try daemonStore.latestSeq() == daemonBefore { return round }
        }
        return nil
    }
}
