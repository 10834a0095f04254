import SyncCore
import SyncStore

/// A device's record of the newest lineage entry of each of its recent pushes (its tips),
/// newest first, kept as one text setting.
struct PushLineage {
    /// How many push tips a device remembers (and a hello carries).
    static let depth = 64

    private(set) var tips: [LineageEntry] = []

    /// Reads the setting's text: `token:counter` pairs separated by spaces (nil: none yet).
    init(_ text: String?) {
        for pair in (text ?? "").split(separator: " ") {
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let counter = Int64(parts[1]), counter > 0 else { continue }
            tips.append(LineageEntry(token: String(parts[0]), counter: counter))
        }
    }

    /// Records `tip` as the newest push's, unless it already is.
    mutating func add(_ tip: LineageEntry) {
        if tips.first == tip { return }
        tips.insert(tip, at: 0)
        if tips.count > Self.depth { tips.removeLast(tips.count - Self.depth) }
    }

    var encoded: String {
        tips.map { "\($0.token):\($0.counter)" }.joined(separator: " ")
    }
}
