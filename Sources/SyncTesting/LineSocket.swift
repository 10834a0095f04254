import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain blocking TCP client for tests (one reader and one writer thread at most): send
/// raw lines, read lines with a timeout, see
/// whether the peer closed. Deliberately not NIO, so tests of the daemon do not share its
/// code.
public final class LineSocket: @unchecked Sendable {
    private let descriptor: Int32
    var rawDescriptor: Int32 { descriptor }
    private var buffer: [UInt8] = []

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    public init(host: String = "127.0.0.1", port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw Failure(description: "cannot connect to \(host):\(port)")
        }
    }

    deinit {
        close(descriptor)
    }

    /// Cuts the connection now (the descriptor is closed when the socket goes).
    public func closeNow() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// Sends `bytes` followed by a newline.
    public func send(line bytes: [UInt8]) throws {
        try send(bytes: bytes + [UInt8(ascii: "\n")])
    }

    /// Sends `data` as it is (part of a line, say).
    public func send(bytes data: [UInt8]) throws {
        var offset = 0
        while offset < data.count {
            let written = data[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw Failure(description: "send failed (errno \(errno))") }
            offset += written
        }
    }

    public func send(line text: String) throws {
        try send(line: Array(text.utf8))
    }

    /// The next line (newline excluded), or nil when the peer closed the connection.
    public func readLine(timeout: Double = 10) throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "no line within \(timeout) s") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 {
                return buffer.isEmpty
                    ? nil
                    : {
                        defer { buffer.removeAll() }; return buffer
                    }()
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    public func readText(timeout: Double = 10) throws -> String? {
        try readLine(timeout: timeout).map { String(decoding: $0, as: UTF8.self) }
    }
}
