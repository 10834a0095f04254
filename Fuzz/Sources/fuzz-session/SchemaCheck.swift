import Foundation
import SyncProtocol
import SyncTesting

/// The protocol's JSON Schemas, loaded once from `protocol/schema` (or `YONGAI_SCHEMA_DIR`).
enum SchemaCheck {
    nonisolated(unsafe) private static var validator = JSONSchemaValidator(directory: directory)

    static let directory: String = {
        if let given = ProcessInfo.processInfo.environment["YONGAI_SCHEMA_DIR"] { return given }
        // This file is Fuzz/Sources/fuzz-session/SchemaCheck.swift in the repository.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("protocol/schema").path
    }()

    /// Why `reply` is not a valid daemon message (empty when it is).
    static func errors(_ reply: JSONValue) -> [String] {
        do {
            return try validator.errors(reply, against: "daemon-message.schema.json")
        } catch {
            preconditionFailure("the schemas in \(directory) cannot be read: \(error)")
        }
    }
}
