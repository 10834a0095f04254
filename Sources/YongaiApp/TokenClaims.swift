import Foundation
import SyncProtocol
import SyncStore

/// What a daemon token says about its holder, read without the daemon's secret (the daemon
/// checks the signature; the device only needs to know whom it speaks for).
public struct TokenClaims: Sendable, Equatable {
    public let role: String
    public let subject: String
    /// When the daemon stops taking the token, ms since the epoch (nil: the token has no
    /// expiry, and the daemon refuses it).
    public let expiresAt: Int64?

    public init(token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        var base64 = parts.count == 3 ? String(parts[1]) : ""
        base64 = base64.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard parts.count == 3, parts[0] == "yat1", let payload = Data(base64Encoded: base64),
            let json = try? JSONParser.parse(Array(payload)), case .string(let role)? = json["role"],
            case .string(let subject)? = json["sub"]
        else { throw CLIError("the token is not a Yong'ai token (ask the daemon's operator for yongai-syncd token)") }
        self.role = role
        self.subject = subject
        if case .integer(let expiresAt)? = json["exp"] { self.expiresAt = expiresAt } else { expiresAt = nil }
    }

    /// Refuses, in one line, a token without expiry (the daemon refuses every one); for a
    /// token that has expired by this device's clock, the warning to show. Only a warning: the
    /// daemon's clock decides, and this device's may be wrong.
    public func checkExpiry(now: Int64 = SystemClock().nowMillis()) throws -> String? {
        guard let expiresAt else {
            throw CLIError("the token has no expiry and the daemon refuses it: ask for a new one (yongai-syncd token)")
        }
        guard expiresAt > now else {
            let date = Date(timeIntervalSince1970: Double(expiresAt) / 1000).formatted(.iso8601)
            return
                "warning: by this device's clock the token expired at \(date); if sync says so too, ask for a new one (yongai-syncd token)"
        }
        return nil
    }
}
