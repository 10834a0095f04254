extension RecordState {
    /// The join of two states (Riak's dotted-version-vector semantics, per field).
    ///
    /// For each field it keeps the values both sides hold, plus each side's values whose dot
    /// the other side's context does not cover; contexts join pointwise. The join is
    /// commutative, associative and idempotent, so replicas may exchange states in any order,
    /// any number of times.
    public func merged(with other: RecordState) -> RecordState {
        if self == other { return self }
        var result: [Field] = []
        result.reserveCapacity(max(fields.count, other.fields.count))
        var left = 0
        var right = 0
        while left < fields.count || right < other.fields.count {
            if right == other.fields.count
                || (left < fields.count && RecordState.namePrecedes(fields[left].name, other.fields[right].name))
            {
                appendSurvivors(of: fields[left], notCoveredBy: other.context, to: &result)
                left += 1
            } else if left == fields.count
                || RecordState.namePrecedes(other.fields[right].name, fields[left].name)
            {
                appendSurvivors(of: other.fields[right], notCoveredBy: context, to: &result)
                right += 1
            } else {
                let values = RecordState.joinValues(
                    fields[left].register.values, context, other.fields[right].register.values, other.context)
                if !values.isEmpty {
                    result.append(Field(name: fields[left].name, register: MultiValueRegister(sortedValues: values)))
                }
                left += 1
                right += 1
            }
        }
        var merged = RecordState()
        merged.fields = result
        merged.context = context.merging(other.context)
        return merged
    }

    /// The join, keeping every value `other` holds even where this state's context counts
    /// it as seen: for a record whose context may count a copy's write as one it saw (its push
    /// was refused as a clash), so that nothing the peer holds is dropped on that say-so. At
    /// worst a value this side wrote over comes back as a visible sibling.
    public func merged(keepingAllOf other: RecordState) -> RecordState {
        let merged = merged(with: other)
        var fields: [Field] = []
        var changed = false
        for field in merged.fields {
            guard let theirs = other.register(of: field.name) else {
                fields.append(field)
                continue
            }
            let held = Set(field.register.values.map(\.dot))
            let dropped = theirs.values.filter { !held.contains($0.dot) }
            if dropped.isEmpty {
                fields.append(field)
            } else {
                changed = true
                let values = (field.register.values + dropped).sorted { $0.dot < $1.dot }
                fields.append(Field(name: field.name, register: MultiValueRegister(sortedValues: values)))
            }
        }
        // A field all of whose values went keeps the ones `other` holds.
        for field in other.fields where merged.register(of: field.name) == nil {
            changed = true
            fields.append(field)
        }
        guard changed else { return merged }
        fields.sort { RecordState.namePrecedes($0.name, $1.name) }
        return RecordState(orderedFields: fields, context: merged.context)
    }

    /// Dots both states hold with different content: two devices writing under one replica id.
    /// One write has one timestamp in every field it set, so a dot held in two different
    /// fields with two timestamps is a clash too.
    public func clashingDots(with other: RecordState) -> [Dot] {
        var clashes: [Dot] = []
        for field in fields {
            let theirs = other.register(of: field.name)
            for mine in field.register {
                let clash: Bool
                if let match = theirs?.values.first(where: { $0.dot == mine.dot }) {
                    clash = match.clashes(with: mine)
                } else {
                    // Not in this field there: the same write in another field has the same timestamp.
                    clash = other.fields.contains { theirs in
                        theirs.register.values.contains { $0.dot == mine.dot && $0.timestamp != mine.timestamp }
                    }
                }
                if clash, !clashes.contains(mine.dot) { clashes.append(mine.dot) }
            }
        }
        return clashes
    }

    private func appendSurvivors(of field: Field, notCoveredBy otherContext: VersionVector, to result: inout [Field]) {
        let survivors = field.register.values.filter { !otherContext.covers($0.dot) }
        if survivors.count == field.register.values.count {
            result.append(field)
        } else if !survivors.isEmpty {
            result.append(Field(name: field.name, register: MultiValueRegister(sortedValues: survivors)))
        }
    }

    /// Joins two sorted value lists: common dots, plus each side's dots unseen by the other.
    private static func joinValues(
        _ lhs: [RegisterValue], _ lhsContext: VersionVector, _ rhs: [RegisterValue], _ rhsContext: VersionVector
    ) -> [RegisterValue] {
        var result: [RegisterValue] = []
        result.reserveCapacity(max(lhs.count, rhs.count))
        var left = 0
        var right = 0
        while left < lhs.count || right < rhs.count {
            if right == rhs.count || (left < lhs.count && lhs[left].dot < rhs[right].dot) {
                if !rhsContext.covers(lhs[left].dot) { result.append(lhs[left]) }
                left += 1
            } else if left == lhs.count || rhs[right].dot < lhs[left].dot {
                if !lhsContext.covers(rhs[right].dot) { result.append(rhs[right]) }
                right += 1
            } else {
                // Same dot on both sides. Valid states agree; clashing ones (a cloned replica id)
                // still join deterministically so merge order never matters.
                result.append(preferred(lhs[left], rhs[right]))
                left += 1
                right += 1
            }
        }
        return result
    }

    private static func preferred(_ lhs: RegisterValue, _ rhs: RegisterValue) -> RegisterValue {
        if lhs == rhs { return lhs }
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp > rhs.timestamp ? lhs : rhs }
        return FieldValue.precedes(lhs.value, rhs.value) ? rhs : lhs
    }
}
