import Foundation
import SyncCore
import SyncProtocol
import SyncStore
import YongaiDomain

/// A device's home directory: its store (`store.sqlite`) and its settings (`device.json`:
/// the daemon's address, the token, and who the token speaks for).
public struct DeviceHome: Sendable {
    public let path: String

    /// The settings kept beside the store.
    public struct Settings: Sendable, Equatable {
        public var server: String
        public var token: String
        public var role: String
        public var subject: String
        /// A station device's station.
        public var station: String?

        public init(server: String, token: String, role: String, subject: String, station: String?) {
            self.server = server
            self.token = token
            self.role = role
            self.subject = subject
            self.station = station
        }
    }

    /// `explicit`, else `$YONGAI_HOME`, else `~/.yongai`.
    public init(explicit: String?) {
        if let explicit {
            path = explicit
        } else if let environment = ProcessInfo.processInfo.environment["YONGAI_HOME"], !environment.isEmpty {
            path = environment
        } else {
            path = FileManager.default.homeDirectoryForCurrentUser.path + "/.yongai"
        }
    }

    var storePath: String { path + "/store.sqlite" }
    var settingsPath: String { path + "/device.json" }

    public var isInitialized: Bool { FileManager.default.fileExists(atPath: settingsPath) }

    /// Creates the home (or updates its settings), opening the store so it gets its replica id.
    public func initialize(_ settings: Settings) throws -> SyncStore {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let store = try SyncStore(.file(storePath), schema: YongaiCollections.schema)
        var members: [JSONValue.Member] = [
            .init("server", .string(settings.server)), .init("token", .string(settings.token)),
            .init("role", .string(settings.role)), .init("subject", .string(settings.subject)),
        ]
        if let station = settings.station { members.append(.init("station", .string(station))) }
        // It holds the bearer token: owner-only, also when rewritten.
        try PrivateFile.replace(JSONWriter.encode(.object(members)), at: settingsPath)
        return store
    }

    /// The settings, or a clear error when the home was never initialized.
    public func settings(command: String) throws -> Settings {
        guard let data = FileManager.default.contents(atPath: settingsPath) else {
            throw CLIError("no store in \(path) yet: run \(command) init first")
        }
        guard let json = try? JSONParser.parse(Array(data)), case .string(let server)? = json["server"],
            case .string(let token)? = json["token"], case .string(let role)? = json["role"],
            case .string(let subject)? = json["subject"]
        else { throw CLIError("\(settingsPath) is damaged: run \(command) init again") }
        var station: String?
        if case .string(let value)? = json["station"] { station = value }
        return Settings(server: server, token: token, role: role, subject: subject, station: station)
    }

    public func openStore() throws -> SyncStore {
        try SyncStore(.file(storePath), schema: YongaiCollections.schema)
    }
}

/// An error for people: one readable line, and the exit code to leave with.
public struct CLIError: Error, CustomStringConvertible {
    public let description: String
    public let exitCode: Int32

    public init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}
