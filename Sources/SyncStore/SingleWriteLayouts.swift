import SyncCore

/// Where single writes' fields go (their positions among a collection's declared fields),
/// remembered for the last field list seen: the records of a run share one names array, so
/// the names are looked up once per run rather than once per record.
struct SingleWriteLayouts {
    private var last: (collection: String, names: [String], positions: [Int])?

    /// The declared position of each of `names`, in order; refuses a name `table` does not declare.
    mutating func positions(of names: [String], in table: CollectionTable) throws(StoreError) -> [Int] {
        if let last, last.names == names, last.collection == table.name { return last.positions }
        var positions: [Int] = []
        positions.reserveCapacity(names.count)
        for name in names {
            guard let position = table.schema.position(of: name) else {
                throw StoreError(core: .unknownField, "\(table.name) has no field \(name.debugDescription)")
            }
            positions.append(position)
        }
        last = (table.name, names, positions)
        return positions
    }
}
