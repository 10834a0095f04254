import ArgumentParser

/// `--timeout` of a one-off sync, shared by the rider CLI and the station agent.
public struct SyncTimeoutOption: ParsableArguments {
    @Option(help: "Seconds to wait for the daemon to answer a request before giving up (exit 75), 0.05-3600.")
    public var timeout = 30.0

    public init() {}

    public func validate() throws {
        guard timeout >= 0.05, timeout <= 3_600 else { throw ValidationError("--timeout must be 0.05-3600 seconds") }
    }

    /// The timeout as a duration.
    public var duration: Duration { .milliseconds(Int64(timeout * 1_000)) }
}
