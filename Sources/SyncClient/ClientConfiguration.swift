import SyncProtocol

/// Where the daemon is and how to talk to it.
public struct ClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var token: String
    /// Records per push or pull.
    public var batchSize: Int
    public var maximumLine: Int
    /// The longest wait between reconnection attempts.
    public var backoffCap: Duration
    /// The first wait after a failure; doubled each time up to the cap.
    public var backoffBase: Duration
    /// How long to wait for the connection to open.
    public var connectTimeout: Duration
    /// How long to wait for the daemon's answer to a request (a live connection pings so it
    /// always has one coming) before giving the connection up.
    public var readTimeout: Duration

    public init(
        host: String, port: Int, token: String, batchSize: Int = 500,
        maximumLine: Int = ProtocolLimits.defaultMaximumLine,
        backoffCap: Duration = .seconds(30), backoffBase: Duration = .milliseconds(250),
        connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.batchSize = batchSize
        self.maximumLine = maximumLine
        self.backoffCap = backoffCap
        self.backoffBase = backoffBase
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// The address as `HOST:PORT`, as people read it.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `HOST:PORT` (an IPv6 host in brackets).
    public static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
