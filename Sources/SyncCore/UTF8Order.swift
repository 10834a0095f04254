/// Whether `lhs` sorts before `rhs` byte-wise on UTF-8: the one string order the engine uses
/// (field names, replica ids, text values), the same on every platform.
///
/// Reads both strings' bytes in place, small strings included, which the generic
/// `utf8.lexicographicallyPrecedes` does element by element.
@inlinable
public func utf8Precedes(_ lhs: String, _ rhs: String) -> Bool {
    var left = lhs
    var right = rhs
    return left.withUTF8 { leftBytes in
        right.withUTF8 { rightBytes in
            let common = min(leftBytes.count, rightBytes.count)
            var index = 0
            while index < common {
                if leftBytes[index] != rightBytes[index] { return leftBytes[index] < rightBytes[index] }
                index += 1
            }
            return leftBytes.count < rightBytes.count
        }
    }
}
