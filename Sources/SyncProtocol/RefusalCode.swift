/// The stable codes of `pushed.refused` entries: why the daemon would not take one record.
/// Codes only ever grow; their strings never change.
public enum RefusalCode {
    /// The access rules do not let the pusher write it.
    public static let forbidden = "forbidden"
    /// It carries writes by a replica that never synced with the daemon.
    public static let relayedWrite = "relayed_write"
    /// It carries a new write stamped further ahead of the daemon's clock than
    /// `welcome.max_clock_ahead`: the writer stamps it again by the daemon's time.
    public static let clockAhead = "clock_ahead"
    /// A field its collection requires is absent, null or empty.
    public static let missingField = "missing_field"
}
