/// Where a store keeps its data.
public enum StoreLocation: Sendable, Hashable {
    /// A SQLite file in WAL mode, shareable by several processes (a kiosk command beside a
    /// running agent).
    case file(String)
    /// A private in-memory database, gone when the store is released.
    case inMemory
}
