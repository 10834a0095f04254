import SyncProtocol
import SyncStore

/// Where and how the daemon serves.
public struct DaemonConfiguration: Sendable {
    /// The data directory: `store.sqlite` (the daemon's replica), `secret` (token key) and
    /// `revocations.json` (revoked tokens).
    public var dataDirectory: String
    public var host: String
    /// 0 picks a free port (tests); the bound one is reported.
    public var port: Int
    public var maximumLine: Int
    public var maximumBatch: Int
    /// How often to look for changes written by other processes (an import beside the daemon)
    /// and for new revocations.
    public var pollInterval: Duration
    /// How far ahead of the daemon's clock a pushed write may be stamped, in ms (default 15
    /// minutes); records with later writes are refused `clock_ahead`.
    public var maximumClockAhead: Int64 = StoreOptions.defaultMaximumClockAhead
    /// How long a new connection may take to say `hello`.
    public var helloTimeout: Duration
    /// How long a greeted connection may stay without a request (told in `welcome`).
    public var idleTimeout: Duration
    /// How long one line may take to arrive once begun.
    public var lineTimeout: Duration
    /// The most connections open at once.
    public var maximumConnections: Int
    /// The most connections open at once for one principal (role and subject).
    public var maximumConnectionsPerPrincipal: Int

    public init(
        dataDirectory: String = "./yongai-data", host: String = "127.0.0.1", port: Int = 7420,
        maximumLine: Int = ProtocolLimits.defaultMaximumLine, maximumBatch: Int = ProtocolLimits.defaultMaximumBatch,
        pollInterval: Duration = .milliseconds(250), helloTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(120), lineTimeout: Duration = .seconds(30), maximumConnections: Int = 1_000,
        maximumConnectionsPerPrincipal: Int = 16
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.maximumLine = maximumLine
        self.maximumBatch = maximumBatch
        self.pollInterval = pollInterval
        self.helloTimeout = helloTimeout
        self.idleTimeout = idleTimeout
        self.lineTimeout = lineTimeout
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerPrincipal = maximumConnectionsPerPrincipal
    }

    public var storePath: String { dataDirectory + "/store.sqlite" }
    public var secretPath: String { dataDirectory + "/secret" }
    public var revocationsPath: String { dataDirectory + "/revocations.json" }
}

extension Duration {
    /// The duration in whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }
}
