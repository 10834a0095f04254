import SyncCore
import SyncSession
import SyncStore
import YongaiDomain

/// A short scripted story for a newcomer: two stations edit one station's status while the
/// daemon is away, a rider checks in offline at both, the daemon comes back, everyone
/// converges, and the conflict is listed with its winner.
public enum DemoScript {
    public static func run(_ say: (String) -> Void) throws {
        var options = SimulationOptions(seed: 1)
        options.devices = 0
        let world = try Simulation(options: options)
        let station = Principal(role: "station", subject: "st-001")
        try world.addDevice(name: "kiosk-A", principal: station, copying: nil)
        try world.addDevice(name: "ops-laptop", principal: Principal(role: "admin", subject: "ops"), copying: nil)
        try world.addDevice(name: "rider-phone", principal: Principal(role: "rider", subject: "r-007"), copying: nil)
        let kiosk = 0
        let admin = 1
        let rider = 2
        say("Three devices and a daemon, each with its own SQLite store. First, everyone syncs once.")
        for index in 0..<3 { _ = try world.syncToCompletion(index) }
        say("  The daemon holds \(try world.daemonStore.changeCount(after: 0)) records; every device has the stations.")
        say("")
        say("The daemon goes away (a basement, a lift). Everyone keeps working on their own store:")
        world.daemonUp = false
        world.devices[kiosk].clock.skew = 3_600_000
        _ = try world.write(kiosk, "stations", "st-001", ["status": .text("full"), "free_chargers": .integer(0)])
        say("  kiosk-A (clock an hour fast) marks st-001 full, 0 free chargers.")
        world.time.now += 60_000
        _ = try world.write(admin, "stations", "st-001", ["status": .text("closed")])
        say("  ops-laptop, a minute later by the wall clock, marks st-001 closed.")
        _ = try world.write(
            rider, "checkins", "ci-demo-1", Workload.checkin(rider: "r-007", station: "st-001", world.random))
        _ = try world.write(
            rider, "checkins", "ci-demo-2", Workload.checkin(rider: "r-007", station: "st-002", world.random))
        say("  rider-phone checks in at st-001 and st-002, offline.")
        say("")
        say("The daemon comes back; each device syncs (pushes what it has, pulls what it lacks).")
        world.daemonUp = true
        for _ in 0..<2 {
            for index in 0..<3 { _ = try world.syncToCompletion(index) }
        }
        let daemon = world.daemonStore
        say("  The daemon now holds \(try daemon.count("checkins")) check-ins, each exactly once.")
        for conflict in try daemon.conflicts() {
            let values = conflict.values.map { "\($0.value) (by \($0.dot.replica), hlc \($0.timestamp))" }
            say(
                "  Conflict on \(conflict.collection) \(conflict.key).\(conflict.field): \(values.joined(separator: " vs "))"
            )
            say(
                "    shown meanwhile: \(conflict.winner.value) — the larger hybrid timestamp wins, the same everywhere."
            )
        }
        var same = true
        let reference = try daemon.record("stations", key: "st-001")
        for device in world.devices where try device.store.record("stations", key: "st-001") != reference {
            same = false
        }
        say("  Every device holds the same st-001, siblings included: \(same ? "yes" : "NO").")
        say("")
        say("ops-laptop resolves it by writing one value over both; one more round of syncs:")
        try world.devices[admin].store.write {
            try $0.resolve("stations", key: "st-001", field: "status", value: .text("open"))
        }
        for _ in 0..<2 {
            for index in 0..<3 { _ = try world.syncToCompletion(index) }
        }
        let open = try world.devices.map { try $0.store.conflicts().count }.reduce(0, +)
        say(
            "  Open conflicts left anywhere: \(open). st-001 is \(try daemon.record("stations", key: "st-001")?.visibleValue(of: "status") ?? .null) everywhere."
        )
    }
}

extension SyncStore {
    fileprivate func count(_ collection: String) throws -> Int {
        try changes(after: 0, limit: Int.max / 2).changes.filter { $0.collection == collection && !$0.state.isDeleted }
            .count
    }
}
