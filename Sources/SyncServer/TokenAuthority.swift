import Crypto
import Foundation
import SyncProtocol
import SyncSession

/// Issues and checks the daemon's tokens: a role and a subject, signed with HMAC-SHA256 under
/// a secret kept in the data directory.
///
/// Form: `yat1.<base64url payload>.<base64url signature>`, the payload being
/// `{"role":..,"sub":..,"iat":<issued at, ms>}` and the signature the HMAC of
/// `yat1.<base64url payload>`.
public struct TokenAuthority: Authenticator {
    static let prefix = "yat1"
    private let secret: [UInt8]

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// Loads the secret from `path`, creating a random one (readable by the owner only) on
    /// first use.
    public static func loadOrCreate(at path: String) throws -> TokenAuthority {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count >= 32 else {
                throw SessionError(code: "bad_secret", "\(path) holds a secret shorter than 32 bytes")
            }
            return TokenAuthority(secret: Array(data))
        }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        guard
            FileManager.default.createFile(atPath: path, contents: Data(secret), attributes: [.posixPermissions: 0o600])
        else { throw SessionError(code: "bad_secret", "cannot create the token secret at \(path)") }
        return TokenAuthority(secret: secret)
    }

    /// A token for `role` acting as `subject`.
    public func issue(role: String, subject: String, issuedAt: Int64) -> String {
        let payload = JSONWriter.encode(
            .object(["role": .string(role), "sub": .string(subject), "iat": .integer(issuedAt)]))
        let signed = "\(Self.prefix).\(Self.base64url(payload))"
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signed.utf8), using: key)
        return "\(signed).\(Self.base64url(Array(mac)))"
    }

    public func principal(for token: String) throws(SessionError) -> Principal {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.prefix, let payload = Self.unbase64url(parts[1]),
            let signature = Self.unbase64url(parts[2])
        else { throw SessionError(code: "bad_token", "the token is malformed") }
        let signed = Array("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) else {
            throw SessionError(code: "bad_token", "the token's signature is not valid for this daemon")
        }
        guard let json = try? JSONParser.parse(payload), case .string(let role)? = json["role"],
            case .string(let subject)? = json["sub"], !role.isEmpty, !subject.isEmpty
        else { throw SessionError(code: "bad_token", "the token's payload is malformed") }
        return Principal(role: role, subject: subject)
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
