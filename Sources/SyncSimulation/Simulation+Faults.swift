import SyncCore
import SyncSession
import SyncStore

extension Simulation {
    /// Rolls for each enabled fault at this step. `progress` (0 to 1) places the one-off
    /// faults: the snapshot, the restore, the clone.
    func injectFaults(progress: Double) throws {
        let faults = options.faults
        if faults.partition {
            if random.chance(0.01) {
                let device = devices[random.int(0...(devices.count - 1))]
                device.online.toggle()
                log(device.online ? "device_online" : "device_offline", ["device": .string(device.name)])
                if !device.online {
                    stats.partitions += 1
                    if let id = device.connection, let connection = connections[id] { close(connection) }
                }
            }
            if daemonUp, random.chance(0.003) {
                stats.partitions += 1
                daemonUp = false
                daemonBackAt = time.now + random.int64(1_000...10_000)
                log("daemon_unreachable")
                for connection in Array(connections.values) { close(connection) }
            }
        }
        if faults.crash, random.chance(0.004) {
            let index = random.int(0...(devices.count - 1))
            if devices[index].connection != nil { crashDevice(index, reason: "killed mid-sync") }
        }
        if faults.crash, daemonUp, random.chance(0.001) {
            crashDaemon(reason: "killed")
        }
        if faults.skewSeconds > 0, random.chance(0.004) {
            let device = devices[random.int(0...(devices.count - 1))]
            let range = Int64(faults.skewSeconds) * 1000
            device.clock.skew = random.int64(-range...range)
            stats.clockJumps += 1
            log("clock_jump", ["device": .string(device.name), "skew_ms": .integer(device.clock.skew)])
        }
        if faults.restore {
            if snapshot == nil, progress >= 0.3 {
                snapshot = try daemonStore.copy(clock: daemonClock)
                log("daemon_snapshot")
            } else if let saved = snapshot, progress >= 0.6, stats.restores == 0 {
                stats.restores += 1
                for connection in Array(connections.values) { close(connection) }
                daemonStore = try saved.copy(clock: daemonClock)
                log("daemon_restored")
                daemonUp = false
                daemonBackAt = time.now + 500
            }
        }
        if faults.clone, stats.clones == 0, progress >= 0.45 {
            let candidates = devices.indices.filter { ["rider", "station"].contains(devices[$0].principal.role) }
            if let source = candidates.isEmpty ? nil : devices[random.pick(candidates)] {
                stats.clones += 1
                try addDevice(name: "clone-of-\(source.name)", principal: source.principal, copying: source)
                log("device_cloned", ["device": .string(source.name)])
            }
        }
    }
}
