import GRDB
import SyncCore
import SyncSession
import SyncStore

extension Simulation {
    /// Checks the invariants after the network healed; returns each violation as a line.
    ///
    /// 1. Convergence: every device holds exactly the daemon's state (values and siblings)
    ///    of every record in its scope, but for records the daemon refused from it (flagged).
    /// 2. Nothing lost: every write is still a value or sibling at the daemon, or a later write
    ///    by a replica that had seen it superseded it, or it is kept, flagged, on its device.
    /// 3. Every check-in exists exactly once, and none that nobody wrote.
    /// 4. Scope: no rider device holds another rider's check-ins or appeals.
    /// 5. Liveness: sync quiesced within a bounded number of rounds.
    /// 6. Causality: a write that had seen another has a larger hybrid timestamp.
    func checkInvariants(quiesced: Bool) throws -> [String] {
        var violations: [String] = []
        if !quiesced { violations.append("liveness: sync did not quiesce within 8 rounds after healing") }
        let daemonChanges = try daemonStore.changes(after: 0, limit: Int.max / 2).changes
        var daemonStates: [String: RecordState] = [:]
        for change in daemonChanges { daemonStates["\(change.collection)/\(change.key)"] = change.state }
        var flagged: [Int: Set<String>] = [:]
        for (index, device) in devices.enumerated() {
            flagged[index] = Set(try device.store.refusals().map { "\($0.collection)/\($0.key)" })
        }

        for (index, device) in devices.enumerated() {
            let refused = flagged[index] ?? []
            for change in daemonChanges where policy.mayRead(change, by: device.principal) {
                let path = "\(change.collection)/\(change.key)"
                if refused.contains(path) { continue }
                let local = try device.store.record(change.collection, key: change.key)
                if local != change.state {
                    violations.append("convergence: \(device.name) holds \(path) differently from the daemon")
                }
            }
            for change in try device.store.changes(after: 0, limit: Int.max / 2).changes {
                let path = "\(change.collection)/\(change.key)"
                if daemonStates[path] == nil, !refused.contains(path) {
                    violations.append("convergence: \(device.name) holds \(path), which never reached the daemon")
                }
            }
            if device.principal.role == "rider" {
                let foreign = try device.store.read { db in
                    try Int.fetchOne(
                        db,
                        sql:
                            "SELECT (SELECT COUNT(*) FROM checkins WHERE rider_id <> ?1) + (SELECT COUNT(*) FROM appeals WHERE rider_id <> ?1)",
                        arguments: [device.principal.subject]) ?? 0
                }
                if foreign > 0 { violations.append("scope: \(device.name) holds \(foreign) records of other riders") }
            }
        }

        let byRecord = oracle.byRecord
        for (path, writes) in byRecord.sorted(by: { $0.key < $1.key }) {
            let state = daemonStates[path]
            for write in writes {
                if flagged[write.device]?.contains(path) == true {
                    let local = try devices[write.device].store.record(write.collection, key: write.key)
                    if local?.context.covers(write.dot) != true {
                        violations.append(
                            "lost: \(devices[write.device].name)'s refused write \(write.dot) of \(path) is gone from it too"
                        )
                    }
                    continue
                }
                for field in write.fields.sorted() {
                    let present = state?.register(of: field)?.values.contains { $0.dot == write.dot } ?? false
                    if present { continue }
                    let superseded = writes.contains { later in
                        later.fields.contains(field) && later.seen.covers(write.dot)
                    }
                    if !superseded || state?.context.covers(write.dot) != true {
                        violations.append(
                            "lost: write \(write.dot) of \(path).\(field) by \(devices[write.device].name) is neither held nor superseded by a write that saw it"
                        )
                    }
                }
                // A cloned store reuses its source's replica id, so a dot names a write only
                // together with its device; across clones "had seen" cannot be told, unless
                // only one of the writes made under the dot is early enough to have been seen.
                for earlier in writes
                where write.seen.covers(earlier.dot) && earlier.timestamp >= write.timestamp
                    && !(earlier.dot.replica == write.dot.replica && earlier.device != write.device)
                    && !writes.contains(where: {
                        $0.device != earlier.device && $0.madeAs == earlier.madeAs && $0.timestamp < write.timestamp
                    })
                {
                    violations.append(
                        "causality: \(path) write \(write.dot) saw \(earlier.dot) yet has an earlier timestamp (\(write.timestamp) <= \(earlier.timestamp))"
                    )
                }
            }
        }

        let written = Set(oracle.writes.filter { $0.collection == "checkins" }.map(\.key))
        let held = daemonChanges.filter { $0.collection == "checkins" }.map(\.key)
        if Set(held).count != held.count { violations.append("check-ins: a check-in is held twice") }
        for key in held where !written.contains(key) {
            violations.append("check-ins: \(key) exists but nobody wrote it")
        }
        return violations
    }
}
