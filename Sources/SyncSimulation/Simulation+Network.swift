import SyncCore
import SyncProtocol
@_spi(Defects) import SyncSession
import SyncStore

extension Simulation {
    /// Opens a connection from a device and sends its hello (nothing when it is offline or
    /// the daemon is unreachable).
    func startSync(_ index: Int) throws {
        let device = devices[index]
        guard device.online, daemonUp else {
            stats.syncsFailed += 1
            return
        }
        var configuration = ClientSession.Configuration(token: device.token, batchSize: options.batchSize)
        configuration.defects = options.sessionDefects
        let client = ClientSession(store: device.store, configuration: configuration)
        let daemon = DaemonSession(
            store: daemonStore, policy: policy, authenticator: SimulatedTokens(),
            configuration: .init(epoch: epoch, maximumBatch: 50, maximumClockAhead: options.maximumClockAhead))
        nextConnection += 1
        let connection = SimulatedConnection(
            id: nextConnection, device: index, client: client, daemon: daemon, daemonRun: daemonRun, now: time.now)
        connections[connection.id] = connection
        device.connection = connection.id
        stats.syncsStarted += 1
        log("connect", ["device": .string(device.name), "connection": .integer(Int64(connection.id))])
        do {
            try handle(client.start(), on: connection)
        } catch {
            crashDevice(index, reason: "\(error)")
        }
    }

    /// Carries out a client's events: messages go on the wire; catching up ends a sync.
    func handle(_ events: [ClientSession.Event], on connection: SimulatedConnection) throws {
        for event in events {
            switch event {
            case .send(let message):
                send(message.line(), on: connection, toDaemon: true)
            case .caughtUp(let report):
                stats.syncsCompleted += 1
                stats.refused += report.refused
                log(
                    "caught_up",
                    [
                        "device": .string(devices[connection.device].name), "sent": .integer(Int64(report.sent)),
                        "received": .integer(Int64(report.received)),
                    ])
                close(connection)
            case .pushed(let sent, let accepted, let refused):
                log(
                    "pushed",
                    [
                        "device": .string(devices[connection.device].name), "sent": .integer(Int64(sent)),
                        "accepted": .integer(Int64(accepted)),
                    ])
                for refusal in refused {
                    log(
                        "refused",
                        [
                            "device": .string(devices[connection.device].name), "key": .string(refusal.key),
                            "code": .string(refusal.code), "message": .string(refusal.message),
                        ])
                }
            case .received:
                break
            }
        }
    }

    /// Puts a line on the wire, subject to loss, duplication, delay and reordering.
    func send(_ line: [UInt8], on connection: SimulatedConnection, toDaemon: Bool) {
        stats.messages += 1
        let faults = faultsActive ? options.faults : FaultOptions()
        if faults.loss > 0, random.chance(faults.loss) {
            stats.lost += 1
            return
        }
        let copies = faults.duplication > 0 && random.chance(faults.duplication) ? 2 : 1
        if copies == 2 { stats.duplicated += 1 }
        for _ in 0..<copies {
            let delay = random.int64(1...20) + (faults.reorder ? random.int64(0...60) : 0)
            packetOrder += 1
            packets.append(
                Packet(
                    deliverAt: time.now + delay, order: packetOrder, connection: connection.id, toDaemon: toDaemon,
                    line: Array(line.dropLast())))
        }
    }

    /// Delivers every packet due by now, earliest first.
    func deliverDuePackets() throws {
        while true {
            var best: Int?
            for (index, packet) in packets.enumerated() where packet.deliverAt <= time.now {
                if let current = best {
                    let other = packets[current]
                    if (packet.deliverAt, packet.order) < (other.deliverAt, other.order) { best = index }
                } else {
                    best = index
                }
            }
            guard let best else { return }
            let packet = packets.remove(at: best)
            try deliver(packet)
        }
    }

    private func deliver(_ packet: Packet) throws {
        guard let connection = connections[packet.connection], connection.open else { return }
        connection.lastActivity = time.now
        let device = devices[connection.device]
        if packet.toDaemon {
            // A daemon that crashed or was restored since the connection opened has lost it.
            guard daemonUp, connection.daemonRun == daemonRun else {
                close(connection)
                return
            }
            // The daemon closed its end: what it sent still arrives; nothing more is read.
            if connection.closedByDaemon { return }
            let ahead = connection.readAhead
            connection.readAhead = nil
            let output = packet.line.withUnsafeBytes { connection.daemon.handle(line: $0, readAhead: ahead) }
            if daemonCrashes.fired {
                daemonCrashes.fired = false
                crashDaemon(reason: "crashed in a transaction")
                return
            }
            if output.changedStore { stats.daemonCommits += 1 }
            for line in output.lines { send(line, on: connection, toDaemon: false) }
            // As the daemon does: read the next batch now, answer the next pull with it.
            connection.readAhead = output.readAhead?.read()
            if output.close { connection.closedByDaemon = true }
        } else {
            guard device.online else {
                close(connection)
                return
            }
            do {
                let message = try packet.line.withUnsafeBytes { buffer in
                    try Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }.get()
                }
                try handle(try connection.client.receive(message), on: connection)
                if connection.open { try handle(try connection.client.finishPendingWork(), on: connection) }
            } catch {
                if device.crashes.fired {
                    device.crashes.fired = false
                    crashDevice(connection.device, reason: "crashed in a transaction")
                } else {
                    stats.syncsFailed += 1
                    log("sync_failed", ["device": .string(device.name), "error": .string("\(error)")])
                    close(connection)
                }
            }
            try followRenaming(connection.device)
        }
    }

    /// A device whose store moved its writes to a new replica id (a copy of it diverged): the
    /// oracle's history of its writes follows.
    func followRenaming(_ index: Int) throws {
        let device = devices[index]
        guard device.store.replicaID != device.knownReplica, let renaming = try device.store.lastRenaming() else {
            return
        }
        device.knownReplica = device.store.replicaID
        oracle.rename(device: index, renaming)
        stats.renamings += 1
        log(
            "replica_renamed",
            [
                "device": .string(device.name), "old": .string(renaming.old.rawValue),
                "new": .string(renaming.new.rawValue), "after": .integer(renaming.after),
            ])
    }

    /// Gives up on connections that have heard nothing for a while (lost messages).
    func closeStalledConnections() {
        for connection in connections.values where connection.open && time.now - connection.lastActivity > 3_000 {
            stats.syncsFailed += 1
            log("timeout", ["device": .string(devices[connection.device].name)])
            close(connection)
        }
    }

    func close(_ connection: SimulatedConnection) {
        connection.open = false
        connections.removeValue(forKey: connection.id)
        if devices[connection.device].connection == connection.id { devices[connection.device].connection = nil }
        packets.removeAll { $0.connection == connection.id }
    }

    /// A device dies mid-sync and restarts from its committed store.
    func crashDevice(_ index: Int, reason: String) {
        stats.crashes += 1
        log("device_crash", ["device": .string(devices[index].name), "reason": .string(reason)])
        if let id = devices[index].connection, let connection = connections[id] { close(connection) }
    }

    /// The daemon dies: every connection is lost; it comes back later from its committed store.
    func crashDaemon(reason: String) {
        stats.crashes += 1
        daemonUp = false
        daemonBackAt = time.now + random.int64(500...5_000)
        log("daemon_down", ["reason": .string(reason)])
        for connection in Array(connections.values) { close(connection) }
    }

    /// Runs one device's sync until it catches up (no faults are active by then). Returns the
    /// records it moved either way.
    func syncToCompletion(_ index: Int) throws -> Int {
        let before = stats.syncsCompleted
        let pushedBefore = try devices[index].store.latestSeq()
        let daemonBefore = try daemonStore.latestSeq()
        try startSync(index)
        var steps = 0
        while devices[index].connection != nil, steps < 100_000 {
            time.now += 5
            try deliverDuePackets()
            steps += 1
        }
        guard stats.syncsCompleted > before else { return 1 }
        let moved = try devices[index].store.latestSeq() - pushedBefore + (try daemonStore.latestSeq() - daemonBefore)
        return Int(moved)
    }
}

/// Tokens of the form `role:subject`: the simulation has no secrets to sign with.
struct SimulatedTokens: Authenticator {
    func principal(for token: String) throws(SessionError) -> Principal {
        let parts = token.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { throw SessionError(code: "bad_token", "a simulated token is role:subject") }
        return Principal(role: String(parts[0]), subject: String(parts[1]))
    }
}
