/// The protocol version and the limits both sides hold to.
public enum ProtocolLimits {
    /// The protocol version this implementation speaks.
    public static let version = 1
    /// The longest line accepted by default (1 MiB), newline excluded.
    public static let defaultMaximumLine = 1 << 20
    /// The most records a push or a changes batch carries by default.
    public static let defaultMaximumBatch = 1_000
}
