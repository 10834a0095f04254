import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The floor for any sync over TCP: the same bytes copied through a plain loopback socket,
/// one thread writing and another reading until all have arrived.
enum LoopbackCopy {
    /// Seconds to move `bytes` from one socket to another over 127.0.0.1.
    static func seconds(_ bytes: [UInt8]) throws -> Double {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw LoopbackError("socket failed") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listener, socketAddress, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, socketAddress, &length) == 0
            }
        }
        guard bound else { throw LoopbackError("cannot listen on 127.0.0.1") }
        let total = bytes.count
        let received = LockedCount()
        let done = DispatchSemaphore(value: 0)
        let start = ContinuousClock.now
        Thread.detachNewThread {
            let connection = accept(listener, nil, nil)
            defer {
                close(connection)
                done.signal()
            }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            var count = 0
            while count < total {
                let read = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                if read <= 0 { break }
                count += read
            }
            received.set(count)
        }
        let sender = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(sender) }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(sender, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw LoopbackError("cannot connect to 127.0.0.1") }
        var sent = 0
        bytes.withUnsafeBytes { buffer in
            while sent < total {
                let wrote = send(sender, buffer.baseAddress! + sent, total - sent, 0)
                if wrote <= 0 { break }
                sent += wrote
            }
        }
        done.wait()
        let elapsed = ContinuousClock.now - start
        guard received.value == total else { throw LoopbackError("only \(received.value) of \(total) bytes arrived") }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    struct LoopbackError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private final class LockedCount: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func set(_ value: Int) { lock.withLock { count = value } }
    }
}
