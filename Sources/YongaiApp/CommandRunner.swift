import ArgumentParser
import Foundation
import SyncClient

/// What the device programs (`yongai`, `yongai-station`) share around their commands.
public enum CommandRunner {
    /// Runs a command body, turning any error into one line on standard error, as
    /// `program: message`, and the exit code that goes with it.
    public static func run(as program: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            let (message, code) = CLIError.line(for: error)
            FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
            throw ExitCode(code)
        }
    }

    /// Refuses a daemon address that is not `HOST:PORT`.
    public static func checkServer(_ server: String) throws(CLIError) {
        guard ClientConfiguration.address(server) != nil else {
            throw CLIError("bad server address \(server.debugDescription): use HOST:PORT, as 127.0.0.1:7420")
        }
    }
}
