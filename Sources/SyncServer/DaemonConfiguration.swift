import SyncProtocol
import SyncStore

/// Where and how the daemon serves.
public struct DaemonConfiguration: Sendable {
    /// The data directory: `store.sqlite` (the daemon's replica) and `secret` (token key).
    public var dataDirectory: String
    public var host: String
    /// 0 picks a free port (tests); the bound one is reported.
    public var port: Int
    public var maximumLine: Int
    public var maximumBatch: Int
    /// How often to look for changes written by other processes (an import beside the daemon).
    public var pollInterval: Duration
    /// How far ahead of the daemon's clock a pushed write may be stamped, in ms (default 15
    /// minutes); records with later writes are refused `clock_ahead`.
    public var maximumClockAhead: Int64 = StoreOptions.defaultMaximumClockAhead

    public init(
        dataDirectory: String = "./yongai-data", host: String = "127.0.0.1", port: Int = 7420,
        maximumLine: Int = ProtocolLimits.defaultMaximumLine, maximumBatch: Int = ProtocolLimits.defaultMaximumBatch,
        pollInterval: Duration = .milliseconds(250)
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.maximumLine = maximumLine
        self.maximumBatch = maximumBatch
        self.pollInterval = pollInterval
    }

    public var storePath: String { dataDirectory + "/store.sqlite" }
    public var secretPath: String { dataDirectory + "/secret" }
}
