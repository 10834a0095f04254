/// How long a token stays valid, written as a count and a unit: `30m`, `12h`, `90d`.
public struct TokenLifetime: Sendable, Hashable, CustomStringConvertible {
    public let milliseconds: Int64
    public let description: String

    /// The longest lifetime accepted: 5 years.
    public static let maximum: Int64 = 5 * 366 * 86_400_000

    /// Parses `<count><m|h|d>`, count ≥ 1, at most `maximum`; nil otherwise.
    public init?(_ text: String) {
        guard let unit = text.last, let count = Int64(text.dropLast()), count >= 1, text.first != "+" else {
            return nil
        }
        let scale: Int64
        switch unit {
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        case "d": scale = 86_400_000
        default: return nil
        }
        let (millis, overflow) = count.multipliedReportingOverflow(by: scale)
        guard !overflow, millis <= Self.maximum else { return nil }
        milliseconds = millis
        description = text
    }
}
