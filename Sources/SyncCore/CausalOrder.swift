/// How two version vectors relate: one saw the other's history, or neither did.
public enum CausalOrder: Sendable, Hashable {
    case equal
    /// The left side happened before the right one (the right one descends from it).
    case before
    /// The left side happened after the right one (it descends from it).
    case after
    /// Neither descends from the other.
    case concurrent
}
