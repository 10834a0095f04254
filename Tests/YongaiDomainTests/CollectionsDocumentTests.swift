import Foundation
import SyncCore
import Testing
import YongaiDomain

/// `protocol/COLLECTIONS.md` is the contract a second implementation writes records from: each
/// collection's table there is exactly what the daemon's schema declares.
@Suite struct CollectionsDocumentTests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("protocol/COLLECTIONS.md").path

    /// A collection as the document states it.
    static func table(_ collection: CollectionSchema) -> String {
        var lines = [
            "### `\(collection.name)`", "",
            collection.policy == .immutable
                ? "Immutable: written once, never changed or deleted; a repeat merges into one."
                : "Each field is a multi-value register: concurrent edits stay as siblings.",
            "",
            "| field | type | required | null | values | longest text | default |",
            "|---|---|---|---|---|---|---|",
        ]
        for field in collection.fields {
            var values = "any"
            if let allowed = field.allowedValues {
                values = allowed.map { "`\($0.description.replacingOccurrences(of: "\"", with: ""))`" }.joined(
                    separator: ", ")
            } else if let range = field.range {
                values = "\(format(range.lowerBound)) to \(format(range.upperBound))"
            }
            let length = field.type == .text ? "\(field.maximumLength) bytes" : "-"
            let fallback = field.defaultValue.map { "`\($0.description.replacingOccurrences(of: "\"", with: ""))`" }
            lines.append(
                "| `\(field.name)` | \(field.type.rawValue) | \(field.isRequired ? "yes, not empty" : "no") | \(field.isNullable ? "allowed" : "no") | \(values) | \(length) | \(fallback ?? "-") |"
            )
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    @Test(arguments: YongaiCollections.schema.collections.map(\.name))
    func theDocumentStatesEachCollectionAsDeclared(name: String) throws {
        let collection = try YongaiCollections.schema.collection(name)
        let text = try String(contentsOfFile: Self.document, encoding: .utf8)
        let expected = Self.table(collection)
        #expect(text.contains(expected), "protocol/COLLECTIONS.md must hold, word for word:\n\(expected)")
    }
}
