import SyncCore

/// The harness's own history of every local write, against which the final state is judged.
struct WriteOracle {
    /// One write as the writer made it.
    struct Write {
        let device: Int
        let collection: String
        let key: String
        let dot: Dot
        let timestamp: HybridTimestamp
        /// The fields it wrote (a put includes `_deleted`).
        let fields: Set<String>
        /// The record's context just before the write: everything the writer had seen.
        let seen: VersionVector
        let time: Int64
    }

    private(set) var writes: [Write] = []

    mutating func record(_ write: Write) {
        writes.append(write)
    }

    /// Writes grouped by record.
    var byRecord: [String: [Write]] {
        Dictionary(grouping: writes) { "\($0.collection)/\($0.key)" }
    }
}
