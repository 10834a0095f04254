/// A record's replicated state with the collection and key it belongs to: what a delta
/// carries, a merge takes and the wire encodes.
///
/// The state is held either whole or, for a record made by one write, as that write (see
/// `SingleWrite`); equality and hashing are by state, whichever form holds it.
public struct KeyedRecord: Sendable, Hashable {
    /// How the state is held.
    public enum Body: Sendable {
        case state(RecordState)
        case singleWrite(SingleWrite)
    }

    public let collection: String
    public let key: String
    public let body: Body

    public init(collection: String, key: String, state: RecordState) {
        self.collection = collection
        self.key = key
        body = .state(state)
    }

    public init(collection: String, key: String, singleWrite: SingleWrite) {
        self.collection = collection
        self.key = key
        body = .singleWrite(singleWrite)
    }

    public init(collection: String, key: String, body: Body) {
        self.collection = collection
        self.key = key
        self.body = body
    }

    /// The full state (built when the record holds a single write).
    public var state: RecordState {
        switch body {
        case .state(let state): state
        case .singleWrite(let write): write.state
        }
    }

    /// The single write the record is, whichever form holds it; nil when it is not one.
    public var singleWrite: SingleWrite? {
        switch body {
        case .state(let state): SingleWrite(state)
        case .singleWrite(let write): write
        }
    }

    /// Whether the visible existence is deleted.
    public var isDeleted: Bool {
        switch body {
        case .state(let state): state.isDeleted
        case .singleWrite: false
        }
    }

    /// The visible value of `name`.
    public func visibleValue(of name: String) -> FieldValue? {
        switch body {
        case .state(let state): state.visibleValue(of: name)
        case .singleWrite(let write): write.value(of: name)
        }
    }

    public static func == (lhs: KeyedRecord, rhs: KeyedRecord) -> Bool {
        guard lhs.collection == rhs.collection, lhs.key == rhs.key else { return false }
        if case .singleWrite(let left) = lhs.body, case .singleWrite(let right) = rhs.body { return left == right }
        return lhs.state == rhs.state
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(collection)
        hasher.combine(key)
        hasher.combine(state)
    }
}
