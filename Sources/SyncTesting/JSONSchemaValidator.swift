import Foundation
import SyncProtocol

/// Validates JSON values against the JSON Schema subset the protocol's schemas use: `type`,
/// `const`, `enum`, `properties`, `required`, `additionalProperties`, `items`, `prefixItems`, `pattern`,
/// `minItems`, `maxItems`, `minimum`, `maximum`, `minLength`, `maxLength`, `anyOf`, `oneOf`
/// and `$ref` to sibling files. An unknown keyword is an error, so the subset cannot drift.
public struct JSONSchemaValidator {
    private let directory: String
    private var cache: [String: JSONValue] = [:]

    static let ignored: Set<String> = ["$schema", "$id", "title", "description"]

    /// Loads schemas from `directory` (`$ref` names files in it).
    public init(directory: String) {
        self.directory = directory
    }

    /// The reasons `value` does not match the schema file `name` (empty when it matches).
    public mutating func errors(_ value: JSONValue, against name: String) throws -> [String] {
        var errors: [String] = []
        try check(value, try schema(name), path: "$", errors: &errors)
        return errors
    }

    private mutating func schema(_ name: String) throws -> JSONValue {
        if let cached = cache[name] { return cached }
        guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            throw SchemaFailure(message: "no schema \(name) in \(directory)")
        }
        let parsed = try JSONParser.parse(Array(data))
        cache[name] = parsed
        return parsed
    }

    struct SchemaFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private mutating func check(_ value: JSONValue, _ schema: JSONValue, path: String, errors: inout [String]) throws {
        guard case .object(let keywords) = schema else { throw SchemaFailure(message: "a schema must be an object") }
        for keyword in keywords {
            let rule = keyword.value
            switch keyword.key {
            case _ where Self.ignored.contains(keyword.key):
                continue
            case "$ref":
                guard case .string(let name) = rule else { throw SchemaFailure(message: "$ref must be a string") }
                try check(value, try self.schema(name), path: path, errors: &errors)
            case "type":
                let names: [String]
                switch rule {
                case .string(let name): names = [name]
                case .array(let list): names = list.compactMap { if case .string(let s) = $0 { s } else { nil } }
                default: throw SchemaFailure(message: "bad type keyword")
                }
                if !names.contains(where: { Self.matches(value, type: $0) }) {
                    errors.append("\(path): expected \(names.joined(separator: " or ")), found \(value.typeName)")
                }
            case "const":
                if value != rule { errors.append("\(path): expected \(rule)") }
            case "enum":
                guard case .array(let options) = rule else { throw SchemaFailure(message: "bad enum") }
                if !options.contains(value) { errors.append("\(path): \(value) is not one of the allowed values") }
            case "properties":
                guard case .object(let properties) = rule else { throw SchemaFailure(message: "bad properties") }
                for property in properties {
                    if let member = value[property.key] {
                        try check(member, property.value, path: "\(path).\(property.key)", errors: &errors)
                    }
                }
            case "required":
                guard case .array(let names) = rule else { throw SchemaFailure(message: "bad required") }
                if case .object = value {
                    for case .string(let name) in names where value[name] == nil {
                        errors.append("\(path): missing \(name)")
                    }
                }
            case "additionalProperties":
                guard case .object(let members) = value else { continue }
                let declared = schema["properties"].map { Set($0.objectMembers.map(\.key)) } ?? []
                for member in members where !declared.contains(member.key) {
                    if rule == .bool(false) {
                        errors.append("\(path): unexpected member \(member.key)")
                    } else if case .object = rule {
                        try check(member.value, rule, path: "\(path).\(member.key)", errors: &errors)
                    }
                }
            case "items":
                guard case .array(let elements) = value else { continue }
                let skip = schema["prefixItems"].map { if case .array(let p) = $0 { p.count } else { 0 } } ?? 0
                for (index, element) in elements.enumerated() where index >= skip {
                    try check(element, rule, path: "\(path)[\(index)]", errors: &errors)
                }
            case "prefixItems":
                guard case .array(let elements) = value, case .array(let schemas) = rule else { continue }
                for (index, (element, itemSchema)) in zip(elements, schemas).enumerated() {
                    try check(element, itemSchema, path: "\(path)[\(index)]", errors: &errors)
                }
            case "minItems", "maxItems":
                guard case .array(let elements) = value, case .integer(let bound) = rule else { continue }
                if keyword.key == "minItems" ? elements.count < bound : elements.count > bound {
                    errors.append("\(path): \(elements.count) items breaks \(keyword.key) \(bound)")
                }
            case "minimum", "maximum":
                guard let number = Self.number(value), let bound = Self.number(rule) else { continue }
                if keyword.key == "minimum" ? number < bound : number > bound {
                    errors.append("\(path): \(number) breaks \(keyword.key) \(bound)")
                }
            case "minLength", "maxLength":
                guard case .string(let text) = value, case .integer(let bound) = rule else { continue }
                let length = text.unicodeScalars.count
                if keyword.key == "minLength" ? length < bound : length > bound {
                    errors.append("\(path): length \(length) breaks \(keyword.key) \(bound)")
                }
            case "pattern":
                guard case .string(let text) = value, case .string(let pattern) = rule else { continue }
                if text.range(of: pattern, options: .regularExpression) == nil {
                    errors.append("\(path): \(text.debugDescription) does not match \(pattern)")
                }
            case "anyOf", "oneOf":
                guard case .array(let options) = rule else { throw SchemaFailure(message: "bad \(keyword.key)") }
                var matching = 0
                for option in options {
                    var optionErrors: [String] = []
                    try check(value, option, path: path, errors: &optionErrors)
                    if optionErrors.isEmpty { matching += 1 }
                }
                if matching == 0 || (keyword.key == "oneOf" && matching > 1) {
                    errors.append("\(path): matches \(matching) of the \(keyword.key) options")
                }
            default:
                throw SchemaFailure(message: "the validator does not know the keyword \(keyword.key)")
            }
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .real),
            ("string", .string), ("array", .array), ("object", .object):
            return true
        default:
            return false
        }
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let number): Double(number)
        case .real(let number): number
        default: nil
        }
    }
}
