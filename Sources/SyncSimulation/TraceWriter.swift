import Foundation
import SyncProtocol

/// Writes the full event history of a run as JSON lines: `{"t": virtual ms, "event": ..., ...}`.
public final class TraceWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw SimulationError("cannot create the trace file \(path)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    deinit {
        flush()
        try? handle.close()
    }

    func write(time: Int64, event: String, fields: KeyValuePairs<String, JSONValue>) {
        var members: [JSONValue.Member] = [.init("t", .integer(time)), .init("event", .string(event))]
        members += fields.map { JSONValue.Member($0.key, $0.value) }
        buffer += JSONWriter.encode(.object(members))
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count > 1 << 16 { flush() }
    }

    public func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
