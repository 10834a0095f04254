import Foundation
import GRDB
import SyncCore
import SyncStore

/// The simulated work of the network, modelled on the real one: station status edits from
/// station devices and from admins (often concurrent), riders checking in offline at several
/// stations, appeals filed by riders and worked by the hotline while the rider edits or rates
/// them, station deletes and re-creates, and registry imports.
enum Workload {
    static let statuses = ["open", "closed", "full"]
    static let kinds = ["rest_stop", "charging", "merchant", "community"]
    static let purposes = ["rest", "charge", "meal", "other"]

    static func station(_ index: Int, random: RandomSource) -> [String: FieldValue] {
        [
            "kind": .text(kinds[index % kinds.count]), "name": .text("Station \(index + 1)"),
            "district": .text(["Haishu", "Jiangbei", "Yinzhou", "Beilun", "Zhenhai"][index % 5]),
            "lat": .real(29.8 + Double(random.int(0...2_000)) / 10_000),
            "lon": .real(121.5 + Double(random.int(0...2_000)) / 10_000),
            "status": .text(statuses[random.int(0...2)]), "free_chargers": .integer(Int64(random.int(0...12))),
        ]
    }

    /// One operation by device `index`; true when it wrote something.
    static func operate(_ simulation: Simulation, device index: Int) throws -> Bool {
        let device = simulation.devices[index]
        let random = simulation.random
        let store = device.store
        let subject = device.principal.subject
        switch device.principal.role {
        case "admin":
            let stations = try keys(store, "SELECT id FROM stations ORDER BY id")
            let roll = random.int(0...99)
            if roll < 55, let key = stations.isEmpty ? nil : random.pick(stations) {
                return try simulation.write(index, "stations", key, statusChange(random))
            } else if roll < 65, let key = stations.isEmpty ? nil : random.pick(stations) {
                return try simulation.delete(index, "stations", key)
            } else if roll < 80 {
                let deleted = try keys(
                    store, "SELECT key FROM _sync_tombstones WHERE collection = 'stations' ORDER BY key")
                guard let key = deleted.isEmpty ? nil : random.pick(deleted) else { return false }
                return try simulation.write(index, "stations", key, station(random.int(0...99), random: random))
            } else {
                // A registry import: a new station.
                simulation.keySerial += 1
                let key = "st-new-\(simulation.keySerial)"
                return try simulation.write(index, "stations", key, station(simulation.keySerial, random: random))
            }
        case "staff":
            let appeals = try keys(store, "SELECT id FROM appeals ORDER BY id")
            guard let key = appeals.isEmpty ? nil : random.pick(appeals) else { return false }
            let status = ["accepted", "in_progress", "resolved", "closed"][random.int(0...3)]
            var values: [String: FieldValue] = [
                "status": .text(status), "assignee": .text("agent-\(random.int(1...5))"),
            ]
            if status == "resolved" { values["resolution"] = .text("paid in full, case \(random.int(1...999))") }
            return try simulation.write(index, "appeals", key, values)
        case "station":
            guard try !keys(store, "SELECT id FROM stations WHERE id = '\(subject)'").isEmpty else { return false }
            if random.chance(0.55) {
                return try simulation.write(index, "stations", subject, statusChange(random))
            }
            return try simulation.write(
                index, "checkins", simulation.newKey("ci", device),
                checkin(rider: "r-\(random.int(1...40))", station: subject, random))
        default:  // rider
            let roll = random.int(0...99)
            if roll < 55 {
                let stations = try keys(store, "SELECT id FROM stations ORDER BY id")
                guard let station = stations.isEmpty ? nil : random.pick(stations) else { return false }
                return try simulation.write(
                    index, "checkins", simulation.newKey("ci", device),
                    checkin(rider: subject, station: station, random))
            } else if roll < 75 {
                return try simulation.write(
                    index, "appeals", simulation.newKey("ap", device),
                    [
                        "rider_id": .text(subject),
                        "category": .text(["wages", "injury", "dispute"][random.int(0...2)]),
                        "text": .text("appeal \(random.int(1...9_999))"),
                    ])
            } else {
                let mine = try keys(store, "SELECT id FROM appeals WHERE rider_id = '\(subject)' ORDER BY id")
                guard let key = mine.isEmpty ? nil : random.pick(mine) else { return false }
                let change: [String: FieldValue] =
                    random.chance(0.5)
                    ? ["satisfaction": .integer(Int64(random.int(1...5)))]
                    : ["text": .text("more detail \(random.int(1...9_999))")]
                return try simulation.write(index, "appeals", key, change)
            }
        }
    }

    static func statusChange(_ random: RandomSource) -> [String: FieldValue] {
        var values: [String: FieldValue] = ["status": .text(statuses[random.int(0...2)])]
        if random.chance(0.5) { values["free_chargers"] = .integer(Int64(random.int(0...12))) }
        if random.chance(0.3) { values["meals_left"] = .integer(Int64(random.int(0...60))) }
        return values
    }

    static func checkin(rider: String, station: String, _ random: RandomSource) -> [String: FieldValue] {
        [
            "rider_id": .text(rider), "station_id": .text(station), "purpose": .text(purposes[random.int(0...3)]),
            "at": .integer(VirtualTime.start + Int64(random.int(0...86_400_000))), "device": .text("sim"),
        ]
    }

    static func keys(_ store: SyncStore, _ sql: String) throws -> [String] {
        try store.read { db in try String.fetchAll(db, sql: sql) }
    }
}

extension Simulation {
    func newKey(_ prefix: String, _ device: SimulatedDevice) -> String {
        keySerial += 1
        return "\(prefix)-\(device.name)-\(keySerial)"
    }

    /// A local write recorded in the oracle; a crash during it (injected) is a device crash.
    func write(_ index: Int, _ collection: String, _ key: String, _ values: [String: FieldValue]) throws -> Bool {
        try change(index, collection, key, fields: Set(values.keys).union([RecordState.deletedField])) { transaction in
            try transaction.put(collection, key: key, values)
        }
    }

    func delete(_ index: Int, _ collection: String, _ key: String) throws -> Bool {
        try change(index, collection, key, fields: [RecordState.deletedField]) { transaction in
            try transaction.delete(collection, key: key)
        }
    }

    private func change(
        _ index: Int, _ collection: String, _ key: String, fields: Set<String>,
        _ body: (WriteTransaction) throws -> Void
    ) throws -> Bool {
        let device = devices[index]
        let before = try device.store.record(collection, key: key)
        let counterBefore = try device.store.counter()
        do {
            try device.store.write(body)
        } catch let error as StoreError {
            if device.crashes.fired {
                device.crashes.fired = false
                crashDevice(index, reason: "crashed while writing")
                return false
            }
            log(
                "write_refused", ["device": .string(device.name), "key": .string(key), "error": .string(error.message)])
            return false
        }
        let counter = try device.store.counter()
        guard counter > counterBefore, let state = try device.store.record(collection, key: key) else { return false }
        let dot = Dot(replica: device.store.replicaID, counter: counter)
        let timestamp = state.fields.lazy.flatMap(\.register.values).first { $0.dot == dot }?.timestamp ?? .zero
        oracle.record(
            .init(
                device: index, collection: collection, key: key, dot: dot, madeAs: dot, timestamp: timestamp,
                fields: fields.filter { state.register(of: $0) != nil }, seen: before?.context ?? VersionVector(),
                time: time.now))
        log(
            "write",
            [
                "device": .string(device.name), "collection": .string(collection), "key": .string(key),
                "dot": .string(dot.description),
            ])
        return true
    }
}
