import Crypto
import Foundation
import SyncProtocol
import SyncSession
import SyncStore

/// Issues and checks the daemon's tokens: a role and a subject, signed with HMAC-SHA256 under
/// a secret kept in the data directory, valid until their expiry unless revoked.
///
/// Form: `yat1.<base64url payload>.<base64url signature>`, the payload being
/// `{"role":..,"sub":..,"iat":<issued at, ms>,"exp":<expires at, ms>}` and the signature the
/// HMAC of `yat1.<base64url payload>`. Base64url is unpadded and canonical (unused trailing
/// bits zero): each token has exactly one spelling.
public struct TokenAuthority: Authenticator {
    static let prefix = "yat1"
    private let secret: [UInt8]
    private let now: @Sendable () -> Int64
    /// Revocations checked at every `principal(for:)`; nil: none.
    public let revocations: RevocationList?

    public init(
        secret: [UInt8], revocations: RevocationList? = nil,
        now: @escaping @Sendable () -> Int64 = {
            SystemClock().nowMillis()
        }
    ) {
        self.secret = secret
        self.revocations = revocations
        self.now = now
    }

    private var key: SymmetricKey { SymmetricKey(data: secret) }

    /// Loads the secret from `path`, creating a random one (readable by the owner only) on
    /// first use.
    public static func loadOrCreate(
        at path: String, revocations: RevocationList? = nil,
        now: @escaping @Sendable () -> Int64 = { SystemClock().nowMillis() }
    ) throws -> TokenAuthority {
        if FileManager.default.contents(atPath: path) == nil {
            var generator = SystemRandomNumberGenerator()
            let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Another process may create it meanwhile: then its secret is the one.
            _ = try PrivateFile.create(secret, at: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SessionError(code: "bad_secret", "cannot read the token secret at \(path)")
        }
        guard data.count >= 32 else {
            throw SessionError(code: "bad_secret", "\(path) holds a secret shorter than 32 bytes")
        }
        return TokenAuthority(secret: Array(data), revocations: revocations, now: now)
    }

    /// A token for `role` acting as `subject`, valid until `expiresAt` (ms since the epoch).
    public func issue(role: String, subject: String, issuedAt: Int64, expiresAt: Int64) -> String {
        sign(
            .object([
                "role": .string(role), "sub": .string(subject), "iat": .integer(issuedAt), "exp": .integer(expiresAt),
            ]))
    }

    /// A token carrying `payload`, whatever it holds (tests make malformed ones with it).
    func sign(_ payload: JSONValue) -> String {
        let signed = "\(Self.prefix).\(Self.base64url(JSONWriter.encode(payload)))"
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signed.utf8), using: key)
        return "\(signed).\(Self.base64url(Array(mac)))"
    }

    public func principal(for token: String) throws(SessionError) -> Principal {
        try verify(token).principal
    }

    /// The token's payload once its form, signature, expiry and revocations are checked:
    /// `bad_token`, `token_expired` or `token_revoked` otherwise.
    public func verify(_ token: String) throws(SessionError) -> TokenPayload {
        let payload = try TokenPayload(token: token) { signed, signature in
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key)
        }
        try check(payload)
        return payload
    }

    /// Refuses a payload that expired or whose subject was revoked after it was issued.
    public func check(_ payload: TokenPayload) throws(SessionError) {
        let now = now()
        guard payload.expiresAt > now else {
            throw SessionError(code: "token_expired", "the token expired \(Self.describe(payload.expiresAt))")
        }
        if let revocation = revocations?.revoking(payload) {
            throw SessionError(
                code: "token_revoked",
                "tokens of \(payload.principal) issued before \(Self.describe(revocation.before)) were revoked")
        }
    }

    static func describe(_ millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(.iso8601)
    }

    /// Base64url without padding.
    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes `text` spells in canonical base64url (unpadded, unused bits zero), or nil for
    /// any other spelling.
    static func unbase64url(_ text: Substring) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0.isBase64URL }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let bytes = Data(base64Encoded: base64).map(Array.init), base64url(bytes) == text else { return nil }
        return bytes
    }
}

/// What a token says: who holds it, when it was issued and until when it is valid.
public struct TokenPayload: Sendable, Hashable {
    public let role: String
    public let subject: String
    /// Issued at, ms since the epoch.
    public let issuedAt: Int64
    /// Expires at, ms since the epoch.
    public let expiresAt: Int64

    public var principal: Principal { Principal(role: role, subject: subject) }

    public init(role: String, subject: String, issuedAt: Int64, expiresAt: Int64) {
        self.role = role
        self.subject = subject
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// Reads `token`, checking its form and (with `isAuthentic`) its signature, not its expiry.
    init(token: String, isAuthentic: (_ signed: [UInt8], _ signature: [UInt8]) -> Bool) throws(SessionError) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == TokenAuthority.prefix, let payload = TokenAuthority.unbase64url(parts[1]),
            let signature = TokenAuthority.unbase64url(parts[2])
        else { throw SessionError(code: "bad_token", "the token is malformed") }
        guard isAuthentic(Array("\(parts[0]).\(parts[1])".utf8), signature) else {
            throw SessionError(code: "bad_token", "the token's signature is not valid for this daemon")
        }
        guard let json = try? JSONParser.parse(payload), case .string(let role)? = json["role"],
            case .string(let subject)? = json["sub"], !role.isEmpty, !subject.isEmpty,
            case .integer(let issuedAt)? = json["iat"]
        else { throw SessionError(code: "bad_token", "the token's payload is malformed") }
        guard case .integer(let expiresAt)? = json["exp"] else {
            throw SessionError(code: "bad_token", "the token has no expiry (exp): ask for a new one")
        }
        self.role = role
        self.subject = subject
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        switch self {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
