/// Who is speaking on a connection, as proven by its token: a role and the subject it acts
/// for (a rider id, a station id, a staff member).
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    public let role: String
    public let subject: String

    public init(role: String, subject: String) {
        self.role = role
        self.subject = subject
    }

    public var description: String { "\(role):\(subject)" }

    /// The form a replica's owner is stored in.
    public var binding: String { "\(role):\(subject)" }

    /// A principal from its stored binding form.
    public init?(binding: String) {
        guard let colon = binding.firstIndex(of: ":") else { return nil }
        self.init(role: String(binding[..<colon]), subject: String(binding[binding.index(after: colon)...]))
    }
}

/// Turns a token into the principal it proves, or refuses it.
public protocol Authenticator: Sendable {
    func principal(for token: String) throws(SessionError) -> Principal
}
