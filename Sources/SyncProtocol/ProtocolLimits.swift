import SyncCore

/// The protocol version and the limits both sides hold to.
public enum ProtocolLimits {
    /// The protocol version this implementation speaks.
    public static let version = 2
    /// The longest line accepted by default (1 MiB), newline excluded.
    public static let defaultMaximumLine = 1 << 20
    /// The most records a push or a changes batch carries by default.
    public static let defaultMaximumBatch = 1_000
    /// The most lineage entries a hello carries.
    public static let maximumLineage = 64
    /// The most lineage entries a push or an error carries.
    public static let maximumLineageEntries = 256
    /// The most renamings a hello carries (the client's own).
    public static let maximumOwnRenamings = 64
    /// The most renamings a welcome carries.
    public static let maximumRenamings = 256
    /// The largest sequence number a cursor names (2^53 - 1, as counters).
    public static let maximumSeq: Int64 = Dot.maximumCounter
    /// The longest epoch id, in bytes.
    public static let maximumEpochLength = 64

    /// Whether `token` is a well-formed lineage token: 1-64 characters of A-Z a-z 0-9 _ . -
    /// (the replica id alphabet).
    public static func isLineageToken(_ token: String) -> Bool {
        (try? ReplicaID(token)) != nil
    }
}
