/// A position in a daemon's change stream: the daemon epoch it was issued in and the
/// sequence number reached. The epoch lets a daemon restored from a backup recognise a
/// cursor from a history it no longer has.
public struct StreamCursor: Sendable, Hashable, CustomStringConvertible {
    public let epoch: String
    public let seq: Int64

    public init(epoch: String, seq: Int64) {
        self.epoch = epoch
        self.seq = seq
    }

    /// The start of any history.
    public static let origin = StreamCursor(epoch: "", seq: 0)

    var json: JSONValue {
        .object(["epoch": .string(epoch), "seq": .integer(seq)])
    }

    public var description: String { "\(epoch.isEmpty ? "-" : epoch)@\(seq)" }
}
