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
    /// The renamings so far: the device that made each, and the writes it moved (by index,
    /// with the dot each had before).
    private var renamings: [(device: Int, renaming: ReplicaRenaming, moved: [(index: Int, dot: Dot)])] = []

    /// Records `write`. A writer that has not yet heard of a renaming saw moved writes under
    /// their old dots: what it saw follows them as `rename` has others' earlier writes follow.
    mutating func record(_ write: Write) {
        writes.append(write)
        for (device, renaming, moved) in renamings where write.device != device {
            followMove(of: writes.count - 1, by: device, renaming, moved: moved)
        }
    }

    /// `device` moved its writes to a new replica id: its writes so far, and what they had
    /// seen, follow; so does what other devices' writes saw of them (see `followMove`).
    mutating func rename(device: Int, _ renaming: ReplicaRenaming) {
        let moved = writes.indices.filter { writes[$0].device == device && renaming.moves(writes[$0].dot) }
            .map { (index: $0, dot: writes[$0].dot) }
        renamings.append((device, renaming, moved))
        for index in writes.indices where writes[index].device != device {
            followMove(of: index, by: device, renaming, moved: moved)
        }
        for index in writes.indices where writes[index].device == device {
            writes[index].dot = renaming.renamed(writes[index].dot)
            writes[index].seen = renaming.renamed(writes[index].seen)
        }
    }

    /// Another device's write that had seen one of the writes `device` moved (the daemon took
    /// it before the move) saw it under its new dot too, when no other copy's write of the
    /// record under the old id could account for what it saw: a record's context counts an
    /// id up to the newest write under that id it saw there. A write can only have seen
    /// writes with earlier timestamps (the clock takes in what it merges).
    private mutating func followMove(
        of index: Int, by device: Int, _ renaming: ReplicaRenaming, moved: [(index: Int, dot: Dot)]
    ) {
        let write = writes[index]
        let seenCounter = write.seen[renaming.old]
        guard seenCounter > renaming.after else { return }
        for (otherIndex, dot) in moved {
            let other = writes[otherIndex]
            guard other.collection == write.collection, other.key == write.key, dot.counter <= seenCounter,
                other.timestamp < write.timestamp
            else { continue }
            let ambiguous = writes.contains {
                $0.device != device && $0.collection == write.collection && $0.key == write.key
                    && $0.madeAs.replica == renaming.old && $0.madeAs.counter >= dot.counter
                    && $0.madeAs.counter <= seenCounter && $0.timestamp < write.timestamp
            }
            if !ambiguous {
                writes[index].seen = writes[index].seen.merging(
                    VersionVector([renaming.new: dot.counter - renaming.after]))
            }
        }
    }

    /// Writes grouped by record.
    var byRecord: [String: [Write]] {
        Dictionary(grouping: writes) { "\($0.collection)/\($0.key)" }
    }
}
