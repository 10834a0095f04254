import SyncCore

/// The harness's own history of every local write, against which the final state is judged.
struct WriteOracle {
    /// One write as the writer made it.
    struct Write {
        let device: Int
        let collection: String
        let key: String
        var dot: Dot
        /// The dot it was made under, before any renaming.
        let madeAs: Dot
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
    /// seen, follow. Another device's write that had seen one of the moved writes (the daemon
    /// took it before the move) saw it under its new dot too, when no other copy's write of
    /// the record under the old id could account for what it saw: a record's context counts
    /// an id up to the newest write under that id it saw there.
    mutating func rename(device: Int, _ renaming: ReplicaRenaming) {
        let moved = writes.indices.filter { writes[$0].device == device && renaming.moves(writes[$0].dot) }
        for index in writes.indices
        where writes[index].device != device && writes[index].seen[renaming.old] > renaming.after {
            let write = writes[index]
            let seenCounter = write.seen[renaming.old]
            for movedIndex in moved {
                let other = writes[movedIndex]
                guard other.collection == write.collection, other.key == write.key,
                    other.dot.counter <= seenCounter
                else { continue }
                let ambiguous = writes.contains {
                    $0.device != device && $0.collection == write.collection && $0.key == write.key
                        && $0.madeAs.replica == renaming.old && $0.madeAs.counter >= other.dot.counter
                        && $0.madeAs.counter <= seenCounter
                }
                if !ambiguous {
                    writes[index].seen = writes[index].seen.merging(
                        VersionVector([renaming.new: other.dot.counter - renaming.after]))
                }
            }
        }
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
