/// The set of collections a store holds.
public struct Schema: Sendable {
    public let collections: [CollectionSchema]

    public init(_ collections: [CollectionSchema]) throws(CoreError) {
        let names = collections.map(\.name)
        guard Set(names).count == names.count else {
            throw CoreError(.invalidSchema, "a collection is declared twice")
        }
        self.collections = collections
    }

    /// The collection named `name`, or an `unknown_collection` error.
    public func collection(_ name: String) throws(CoreError) -> CollectionSchema {
        guard let collection = collections.first(where: { $0.name == name }) else {
            throw CoreError(.unknownCollection, "no collection named \(name.debugDescription)")
        }
        return collection
    }
}
