import Foundation
import GRDB
import SyncCore
import SyncStore
import SyncTesting
import YongaiDomain

/// The store configurations a test body runs against.
enum StoreKind: String, CaseIterable, CustomStringConvertible {
    case inMemory
    case file

    var description: String { rawValue }
}

/// A store for one test, with its temporary directory (removed with the fixture).
final class StoreFixture {
    let store: SyncStore
    let directory: TemporaryDirectory
    let clock: ManualClock

    init(_ kind: StoreKind = .file, clock: ManualClock = ManualClock(), options: StoreOptions = StoreOptions()) throws {
        directory = TemporaryDirectory("store")
        self.clock = clock
        switch kind {
        case .inMemory:
            store = try SyncStore(.inMemory, schema: YongaiCollections.schema, clock: clock, options: options)
        case .file:
            store = try SyncStore(
                .file(directory.file("store.sqlite")), schema: YongaiCollections.schema, clock: clock, options: options)
        }
    }

    deinit {
        directory.remove()
    }

    /// Copies the store's files (database and WAL) as a user copying the folder would.
    func copyFiles(to path: String) throws {
        let source = directory.file("store.sqlite")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: source + suffix) {
            try FileManager.default.copyItem(atPath: source + suffix, toPath: path + suffix)
        }
    }

    /// Another handle on the same file (as a second process would open it).
    func reopen(clock: ManualClock? = nil) throws -> SyncStore {
        try SyncStore(
            .file(directory.file("store.sqlite")), schema: YongaiCollections.schema, clock: clock ?? self.clock)
    }
}

enum Samples {
    static func station(_ name: String = "Rest Stop 1", status: String = "open") -> [String: FieldValue] {
        [
            "kind": .text("rest_stop"), "name": .text(name), "district": .text("Haishu"), "lat": .real(29.87),
            "lon": .real(121.55), "status": .text(status), "free_chargers": .integer(4),
        ]
    }

    static func checkin(rider: String = "rider-1", station: String = "st-1", at: Int64 = 1_764_000_000_000)
        -> [String: FieldValue]
    {
        [
            "rider_id": .text(rider), "station_id": .text(station), "purpose": .text("rest"), "at": .integer(at),
            "device": .text("kiosk-1"),
        ]
    }
}

extension SyncStore {
    /// Every change, in order.
    func allChanges() throws -> [RecordChange] {
        try changes(after: 0, limit: 1_000_000).changes
    }

    /// Merges everything `other` holds.
    @discardableResult
    func pull(from other: SyncStore) throws -> MergeSummary {
        try merge(other.allChanges().map(\.record))
    }

    /// A row of a materialized table, by plain SQL.
    func row(_ sql: String, _ arguments: StatementArguments = []) throws -> Row? {
        try read { db in try Row.fetchOne(db, sql: sql, arguments: arguments) }
    }

    func count(_ table: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}
