import Foundation

/// The built `yongai-syncd` binary run as a real process on a fresh (or given) data
/// directory, listening on a free port.
public final class DaemonProcess {
    public let process = Process()
    public let dataDirectory: String
    public private(set) var port = 0
    private let output = Pipe()
    /// The daemon's log, in a file so a chatty daemon never blocks on a full pipe.
    public var logPath: String { dataDirectory + "/daemon.log" }

    /// The directory holding the built products (beside the test bundle).
    public static var productsDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    }

    /// The path of a built executable, failing clearly when it was not built.
    public static func product(_ name: String) throws -> String {
        let path = productsDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw LineSocket.Failure(description: "\(path) is not built: run swift build first")
        }
        return path
    }

    /// Starts the daemon and waits for its "listening on" line.
    public init(dataDirectory: String, logLevel: String = "warning", arguments: [String] = []) throws {
        self.dataDirectory = dataDirectory
        process.executableURL = URL(fileURLWithPath: try Self.product("yongai-syncd"))
        process.arguments = ["serve", "--data", dataDirectory, "--port", "0", "--log-level", logLevel] + arguments
        process.standardOutput = output
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dataDirectory + "/daemon.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: dataDirectory + "/daemon.log")
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("yongai-syncd listening on "),
            let port = line.split(separator: ":").last.flatMap({ Int($0) })
        else {
            process.terminate()
            throw LineSocket.Failure(description: "the daemon did not start: \(text) \(standardError())")
        }
        self.port = port
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// What a finished run of a built product printed, and how it exited.
    public struct Run: Sendable {
        public let status: Int32
        public let output: String
        public let error: String
        /// It was still running at its time limit and was killed.
        public var timedOut = false
    }

    /// Runs the built product `name` with `arguments` to completion, or until `timeout`
    /// seconds have passed (then kills it: `timedOut`).
    public static func run(_ name: String, _ arguments: [String], timeout: Double = 120) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try product(name))
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let killed = KilledFlag()
        let watchdog = DispatchWorkItem {
            killed.lock.withLock {
                if process.isRunning {
                    killed.value = true
                    kill(process.processIdentifier, SIGKILL)
                }
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        var run = Run(
            status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
            error: String(decoding: err, as: UTF8.self))
        run.timedOut = killed.lock.withLock { killed.value }
        return run
    }

    private final class KilledFlag: @unchecked Sendable {
        let lock = NSLock()
        var value = false
    }

    /// Runs `yongai-syncd` with `arguments` (token, import-stations), returning its standard
    /// output; a failure throws with what it said.
    @discardableResult
    public static func command(_ arguments: [String]) throws -> String {
        let result = try run("yongai-syncd", arguments)
        guard result.status == 0 else {
            throw LineSocket.Failure(
                description: "yongai-syncd \(arguments.joined(separator: " ")) failed: \(result.error)")
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A token signed by this daemon's secret.
    public func token(role: String, subject: String) throws -> String {
        try Self.command(["token", "--data", dataDirectory, "--role", role, "--subject", subject])
    }

    /// Sends `signal` and waits for the process to exit; returns its status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func standardError() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Runs `script` with /bin/sh; its exit status (killed after 30 s).
    public static func shell(_ script: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
