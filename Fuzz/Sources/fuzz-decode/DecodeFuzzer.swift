import SyncCore
import SyncProtocol

/// libFuzzer's entry: one input is one line (newline excluded), read as a client message
/// (as the daemon does) and as a daemon message (as clients do).
///
/// Beyond "no trap", each decoder must agree with itself: a line it accepts decodes the
/// same through the generic JSON path as through the fast one, and the message it gives
/// encodes to a line that decodes back to the same message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let line = UnsafeRawBufferPointer(start: data, count: size)
    checkClientMessage(line, maximumBatch: ProtocolLimits.defaultMaximumBatch)
    checkClientMessage(line, maximumBatch: 3)
    checkDaemonMessage(line)
    return 0
}

private func checkClientMessage(_ line: UnsafeRawBufferPointer, maximumBatch: Int) {
    guard let message = try? ClientMessage.decode(line, maximumBatch: maximumBatch) else { return }
    if let json = try? JSONParser.parse(line) {
        do {
            let generic = try ClientMessage.decode(json, maximumBatch: maximumBatch)
            precondition(generic == message, "the fast and generic paths read \(json) differently")
        } catch {
            preconditionFailure("the generic path refuses a line the fast path accepts: \(error.message)")
        }
    }
    let encoded = message.line()
    precondition(encoded.last == UInt8(ascii: "\n"), "an encoded line ends with a newline")
    let again = encoded.dropLast().withUnsafeBytes { buffer in
        Result { () throws(ProtocolError) in try ClientMessage.decode(buffer, maximumBatch: maximumBatch) }
    }
    switch again {
    case .success(let decoded):
        precondition(decoded == message, "\(String(decoding: encoded, as: UTF8.self)) decodes to another message")
    case .failure(let error):
        preconditionFailure("the encoding of an accepted message is refused: \(error.message)")
    }
}

private func checkDaemonMessage(_ line: UnsafeRawBufferPointer) {
    guard let message = try? DaemonMessage.decode(line) else { return }
    let encoded = message.line()
    let again = encoded.dropLast().withUnsafeBytes { buffer in
        Result { () throws(ProtocolError) in try DaemonMessage.decode(buffer) }
    }
    switch again {
    case .success(let decoded):
        precondition(decoded == message, "\(String(decoding: encoded, as: UTF8.self)) decodes to another message")
    case .failure(let error):
        preconditionFailure("the encoding of an accepted daemon message is refused: \(error.message)")
    }
}
