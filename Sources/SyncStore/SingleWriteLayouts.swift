import SyncCore

/// Where single writes' fields go (their positions among a collection's declared fields),
/// remembered for the last few field lists seen: the records of a run share one names array,
/// and a collection's records set one of a few field lists (a merchant's, a charging
/// station's), so the names are looked up once per list rather than once per record.
struct SingleWriteLayouts {
    private var known: [(collection: String, names: [String], positions: [Int])] = []
    /// The most field lists remembered.
    private static let capacity = 16

    /// The declared position of each of `names`, in order; refuses a name `table` does not declare.
    mutating func positions(of names: [String], in table: CollectionTable) throws(StoreError) -> [Int] {
        if let entry = known.first(where: { $0.names == names && $0.collection == table.name }) {
            return entry.positions
        }
        var positions: [Int] = []
        positions.reserveCapacity(names.count)
        for name in names {
            guard let position = table.schema.position(of: name) else {
                throw StoreError(core: .unknownField, "\(table.name) has no field \(name.debugDescription)")
            }
            positions.append(position)
        }
        if known.count == Self.capacity { known.removeFirst() }
        known.append((table.name, names, positions))
        return positions
    }
}
