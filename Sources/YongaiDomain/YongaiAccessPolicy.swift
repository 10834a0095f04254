import SyncCore
import SyncSession
import SyncStore

/// Who may read and write what in the Yong'ai network (DESIGN.md section 6).
///
/// - `admin`: everything.
/// - `staff` (the hotline): reads everything; writes appeals, but not a rider's own words or
///   rating (text, category, rider_id, satisfaction).
/// - `rider` (subject: rider id): reads stations and its own check-ins and appeals; writes its
///   own check-ins and its own appeals' category, text and satisfaction.
/// - `station` (subject: station id): reads stations and the check-ins at its station;
///   writes its own station's status, free_chargers and meals_left, and check-ins at it.
public struct YongaiAccessPolicy: AccessPolicy {
    public enum Role: String, CaseIterable, Sendable {
        case rider
        case station
        case staff
        case admin
    }

    static let stationFieldsForDevices: Set<String> = ["status", "free_chargers", "meals_left"]
    static let appealFieldsForRiders: Set<String> = ["category", "text", "satisfaction", "status", "rider_id"]
    static let appealFieldsForStaff: Set<String> = ["status", "assignee", "resolution"]

    public init() {}

    public func mayRead(_ change: RecordChange, by principal: Principal) -> Bool {
        switch (Role(rawValue: principal.role), change.collection) {
        case (.admin, _), (.staff, _): return true
        case (_, "stations"): return true
        case (.rider, "checkins"), (.rider, "appeals"):
            return change.record.visibleValue(of: "rider_id") == .text(principal.subject)
        case (.station, "checkins"):
            return change.record.visibleValue(of: "station_id") == .text(principal.subject)
        default: return false
        }
    }

    public func readScope(of collection: String, for principal: Principal) -> ReadScope {
        let subject = FieldValue.text(principal.subject)
        switch (Role(rawValue: principal.role), collection) {
        case (.admin, _), (.staff, _), (_, "stations"): return .all
        case (.rider, "checkins"), (.rider, "appeals"): return .matching(field: "rider_id", value: subject)
        case (.station, "checkins"): return .matching(field: "station_id", value: subject)
        default: return .none
        }
    }

    /// Riders read check-ins and appeals by rider, stations read check-ins by station.
    public var scopeIndexes: [String: [[String]]] {
        ["checkins": [["rider_id"], ["station_id"]], "appeals": [["rider_id"]]]
    }

    public func refusal(
        toWrite record: KeyedRecord, stored: RecordState?, changing changed: Set<String>, by principal: Principal
    ) -> AccessRefusal? {
        guard let role = Role(rawValue: principal.role) else {
            return AccessRefusal("role \(principal.role) may not write")
        }
        if role == .admin || changed.isEmpty { return nil }
        let subject = FieldValue.text(principal.subject)
        func owned(by field: String) -> Bool {
            record.visibleValue(of: field) == subject
                && (stored.map { $0.visibleValue(of: field) == subject } ?? true)
        }
        func only(_ allowed: Set<String>, _ what: String) -> AccessRefusal? {
            let extra = changed.subtracting(allowed).sorted()
            return extra.isEmpty ? nil : AccessRefusal("\(what) may not change \(extra.joined(separator: ", "))")
        }
        switch (role, record.collection) {
        case (.rider, "checkins"):
            return owned(by: "rider_id") ? nil : AccessRefusal("a rider writes only its own check-ins")
        case (.rider, "appeals"):
            guard owned(by: "rider_id") else { return AccessRefusal("a rider writes only its own appeals") }
            if stored != nil, changed.contains("status") {
                return AccessRefusal("only the hotline changes an appeal's status")
            }
            return only(Self.appealFieldsForRiders, "a rider")
        case (.station, "checkins"):
            return owned(by: "station_id") ? nil : AccessRefusal("a station writes only check-ins at its station")
        case (.station, "stations"):
            guard record.key == principal.subject, stored != nil else {
                return AccessRefusal("a station device writes only its own station's status")
            }
            return only(Self.stationFieldsForDevices, "a station device")
        case (.staff, "appeals"):
            return only(Self.appealFieldsForStaff, "the hotline")
        default:
            return AccessRefusal("\(role.rawValue) may not write \(record.collection)")
        }
    }
}
