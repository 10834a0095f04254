import Foundation
import SyncProtocol
import SyncServer
import SyncStore
import SyncTesting
import Testing

/// Replays `protocol/examples/*.jsonl` against the real daemon binary and validates every
/// line it sends against the protocol's JSON Schemas.
@Suite struct TranscriptTests {
    static let protocolDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("protocol").path

    static let transcripts = ["first-sync.jsonl", "offline-station.jsonl", "resumed-pull.jsonl", "errors.jsonl"]

    @Test(arguments: transcripts) func replay(transcript: String) throws {
        let directory = TemporaryDirectory("transcript")
        defer { directory.remove() }
        let data = directory.file("data")
        try DaemonProcess.command([
            "import-stations", "--data", data, Self.protocolDirectory + "/examples/stations.csv",
        ])
        let daemon = try DaemonProcess(dataDirectory: data)
        var replay = Replay(
            daemon: daemon, validator: JSONSchemaValidator(directory: Self.protocolDirectory + "/schema"))
        let text = try String(contentsOfFile: Self.protocolDirectory + "/examples/" + transcript, encoding: .utf8)
        for (number, line) in text.split(separator: "\n").enumerated() {
            try replay.step(try JSONParser.parse(String(line)), line: number + 1)
        }
        #expect(daemon.stop() == 0, "the daemon exits cleanly on SIGTERM")
    }

    @Test func theSchemasRefuseWhatTheyShould() throws {
        var validator = JSONSchemaValidator(directory: Self.protocolDirectory + "/schema")
        let bad = [
            #"{"type":"pong"}"#, #"{"type":"pong","id":1,"extra":true}"#,
            #"{"type":"error","code":"nope","message":"x"}"#,
            #"{"type":"changes","records":[{"c":"x","k":"y","ctx":[["r",0]],"f":{}}],"cursor":1,"more":false}"#,
        ]
        for text in bad {
            #expect(
                try !validator.errors(try JSONParser.parse(text), against: "daemon-message.schema.json").isEmpty,
                "\(text)")
        }
    }
}

/// One transcript being replayed: open connections, remembered values.
struct Replay {
    let daemon: DaemonProcess
    var validator: JSONSchemaValidator
    var sockets: [String: LineSocket] = [:]
    var bindings: [String: JSONValue] = [:]
    var tokens: [String: String] = [:]

    init(daemon: DaemonProcess, validator: JSONSchemaValidator) {
        self.daemon = daemon
        self.validator = validator
    }

    mutating func socket(_ name: String) throws -> LineSocket {
        if let socket = sockets[name] { return socket }
        let socket = try LineSocket(port: daemon.port)
        sockets[name] = socket
        return socket
    }

    mutating func step(_ step: JSONValue, line: Int) throws {
        guard case .string(let connection)? = step["conn"] else {
            throw LineSocket.Failure(description: "line \(line): no conn")
        }
        if let message = step["client"] {
            try socket(connection).send(line: JSONWriter.encode(try substitute(message)))
        } else if case .string(let raw)? = step["client_raw"] {
            switch raw {
            case "$oversize":
                try socket(connection).send(
                    line: "{\"type\":\"ping\",\"id\":9,\"pad\":\"" + String(repeating: "x", count: 1_100_000) + "\"}")
            case "$invalid_utf8":
                try socket(connection).send(line: [0x7B, 0xFF, 0xFE, 0x7D])
            default:
                try socket(connection).send(line: raw)
            }
        } else if let expected = step["daemon"] {
            guard let bytes = try socket(connection).readLine() else {
                Issue.record("line \(line): the daemon closed \(connection) instead of answering")
                return
            }
            let actual = try JSONParser.parse(bytes)
            let schemaErrors = try validator.errors(actual, against: "daemon-message.schema.json")
            #expect(schemaErrors.isEmpty, "line \(line): \(schemaErrors)")
            var mismatches: [String] = []
            match(expected, actual, path: "$", mismatches: &mismatches)
            #expect(
                mismatches.isEmpty,
                "line \(line): \(mismatches) in \(String(decoding: bytes, as: UTF8.self).prefix(600))")
        } else if step["close"] != nil {
            sockets.removeValue(forKey: connection)
        } else if step["expect_closed"] != nil {
            let next = try socket(connection).readLine(timeout: 5)
            #expect(next == nil, "line \(line): \(connection) should be closed")
        } else {
            throw LineSocket.Failure(description: "line \(line): unknown step")
        }
    }

    mutating func substitute(_ value: JSONValue) throws -> JSONValue {
        switch value {
        case .string(let text) where text.hasPrefix("$token:"):
            let parts = text.split(separator: ":")
            let key = parts.dropFirst().joined(separator: ":")
            if tokens[key] == nil { tokens[key] = try daemon.token(role: String(parts[1]), subject: String(parts[2])) }
            return .string(tokens[key]!)
        case .string(let text) where text.hasPrefix("$expired_token:"):
            let parts = text.split(separator: ":")
            let authority = try TokenAuthority.loadOrCreate(at: daemon.dataDirectory + "/secret")
            let now = SystemClock().nowMillis()
            return .string(
                authority.issue(
                    role: String(parts[1]), subject: String(parts[2]), issuedAt: now - 120_000, expiresAt: now - 60_000)
            )
        case .string(let text) where text.hasPrefix("$var:"):
            guard let bound = bindings[String(text.dropFirst(5))] else {
                throw LineSocket.Failure(description: "unbound \(text)")
            }
            return bound
        case .array(let elements):
            return .array(try elements.map { try substitute($0) })
        case .object(let members):
            return .object(try members.map { .init($0.key, try substitute($0.value)) })
        default:
            return value
        }
    }

    mutating func match(_ expected: JSONValue, _ actual: JSONValue, path: String, mismatches: inout [String]) {
        if case .string(let pattern) = expected, pattern.hasPrefix("$") {
            if pattern == "$any" { return }
            if pattern.hasPrefix("$len:") {
                if case .array(let elements) = actual, elements.count == Int(pattern.dropFirst(5)) { return }
                mismatches.append("\(path): expected \(pattern)")
            } else if pattern.hasPrefix("$bind:") {
                bindings[String(pattern.dropFirst(6))] = actual
            } else if pattern.hasPrefix("$var:") {
                if bindings[String(pattern.dropFirst(5))] != actual {
                    mismatches.append("\(path): expected \(pattern)")
                }
            }
            return
        }
        switch (expected, actual) {
        case (.object(let expectedMembers), .object(let actualMembers)):
            let expectedKeys = Set(expectedMembers.map(\.key))
            let actualKeys = Set(actualMembers.map(\.key))
            if expectedKeys != actualKeys {
                mismatches.append("\(path): members \(actualKeys.sorted()) ≠ \(expectedKeys.sorted())")
            }
            for member in expectedMembers {
                if let value = actual[member.key] {
                    match(member.value, value, path: "\(path).\(member.key)", mismatches: &mismatches)
                }
            }
        case (.array(let expectedElements), .array(let actualElements)):
            guard expectedElements.count == actualElements.count else {
                mismatches.append("\(path): \(actualElements.count) elements, expected \(expectedElements.count)")
                return
            }
            for (index, (expectedElement, actualElement)) in zip(expectedElements, actualElements).enumerated() {
                match(expectedElement, actualElement, path: "\(path)[\(index)]", mismatches: &mismatches)
            }
        default:
            if expected != actual { mismatches.append("\(path): \(actual) ≠ \(expected)") }
        }
    }
}
