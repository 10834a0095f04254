/// The identity of one replica (one store install): a short ASCII string, unique per install.
///
/// Replica ids order byte-wise; the order breaks ties between concurrent writes with equal
/// hybrid timestamps, so every replica picks the same winner.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The longest replica id accepted.
    public static let maximumLength = 64

    public let rawValue: String

    /// Makes a replica id, refusing empty, overlong or non `[A-Za-z0-9_.-]` strings.
    public init(_ rawValue: String) throws(CoreError) {
        guard ReplicaID.isValid(rawValue) else {
            throw CoreError(
                .invalidReplicaID,
                "replica id must be 1-\(ReplicaID.maximumLength) characters of A-Z a-z 0-9 _ . - (got \(rawValue.debugDescription))"
            )
        }
        self.rawValue = rawValue
    }

    /// Makes a replica id from a string already known to be valid (literals in tests, stored ids).
    public init(unchecked rawValue: String) {
        precondition(ReplicaID.isValid(rawValue), "invalid replica id \(rawValue.debugDescription)")
        self.rawValue = rawValue
    }

    /// A fresh id of 15 base32 characters (75 bits) drawn from `next`: short enough for Swift to
    /// keep inline without a heap allocation.
    public static func random(_ next: () -> UInt64) -> ReplicaID {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var bits = next()
        var high = next()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(15)
        for index in 0..<15 {
            if index == 12 { bits = high; high = 0 }
            bytes.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return ReplicaID(unchecked: String(decoding: bytes, as: UTF8.self))
    }

    public static func isValid(_ string: String) -> Bool {
        let utf8 = string.utf8
        guard !utf8.isEmpty, utf8.count <= maximumLength else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                return true
            default:
                return false
            }
        }
    }

    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool {
        utf8Precedes(lhs.rawValue, rhs.rawValue)
    }

    public var description: String { rawValue }
}
