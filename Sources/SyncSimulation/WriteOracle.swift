import SyncCore

/// The harness's own history of every local write, against which the final state is judged.
struct WriteOracle {
    /// One write as the writer made it.
    struct Write {
        let device: Int
        let collection: String
        let key: String
        var dot: Dot
        let timestamp: HybridTimestamp
        /// The fields it wrote (a put includes `_deleted`).
        let fields: Set<String>
        /// The record's context just before the write: everything the writer had seen.
        var seen: VersionVector
        let time: Int64
    }

    private(set) var writes: [Write] = []

    mutating func record(_ write: Write) {
        writes.append(write)
    }

    /// `device` moved its writes to a new replica id: its writes so far, and what they had
    /// seen, follow (writes by others never saw the moved dots: the daemon never took them).
    mutating func rename(device: Int, _ renaming: ReplicaRenaming) {
        for index in writes.indices where writes[index].device == device {
            writes[index].dot = renaming.renamed(writes[index].dot)
            writes[index].seen = renaming.renamed(writes[index].seen)
        }
    }

    /// Writes grouped by record.
    var byRecord: [String: [Write]] {
        Dictionary(grouping: writes) { "\($0.collection)/\($0.key)" }
    }
}
