import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP listener on a free loopback port that accepts connections and never says a word: a
/// daemon that hangs. Plain POSIX, so it shares no code with what it tests.
public final class SilentListener: Sendable {
    public let port: Int
    private let descriptor: Int32
    private let accepted = Accepted()

    private final class Accepted: Sendable {
        let descriptors = Mutex<[Int32]>([])
    }

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        guard descriptor >= 0 else { throw LineSocket.Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw LineSocket.Failure(description: "cannot listen on a loopback port")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = descriptor
        let accepted = accepted
        Thread.detachNewThread {
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                accepted.descriptors.withLock { $0.append(connection) }
            }
        }
    }

    /// How many connections it accepted so far.
    public var acceptedCount: Int { accepted.descriptors.withLock { $0.count } }

    deinit {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        for connection in accepted.descriptors.withLock({ $0 }) { close(connection) }
    }
}
