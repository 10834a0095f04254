import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy in front of the daemon that forwards whole lines and cuts a connection after
/// the daemon has sent a given number of lines on it: a network failing at an exact point of
/// the conversation. Later connections pass untouched.
public final class CuttingProxy: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let targetPort: Int
    private let cut = Mutex<Int?>(nil)
    private let stopped = Atomic<Bool>(false)

    public init(targetPort: Int) throws {
        self.targetPort = targetPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            throw LineSocket.Failure(description: "proxy cannot listen")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        self.listener = listener
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        stopped.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Cuts the next connection after the daemon sent `lines` lines on it.
    public func cutNextConnection(afterDaemonLines lines: Int) {
        cut.withLock { $0 = lines }
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let limit = cut.withLock { value -> Int? in
                defer { value = nil }
                return value
            }
            Thread.detachNewThread { [self] in relay(client, cutAfter: limit) }
        }
    }

    private func relay(_ client: Int32, cutAfter limit: Int?) {
        guard let upstream = try? LineSocket(port: targetPort) else {
            close(client)
            return
        }
        let done = Atomic<Bool>(false)
        // Client to daemon: raw bytes.
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while !done.load(ordering: .relaxed) {
                let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                upstream.sendRaw(Array(chunk[..<count]))
            }
            done.store(true, ordering: .relaxed)
            upstream.shutdownBoth()
        }
        // Daemon to client: whole lines, counted.
        var sent = 0
        while !done.load(ordering: .relaxed) {
            if let limit, sent >= limit { break }
            guard let line = try? upstream.readLine(timeout: 30) else { break }
            var bytes = line
            bytes.append(UInt8(ascii: "\n"))
            let written = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { break }
            sent += 1
        }
        done.store(true, ordering: .relaxed)
        shutdown(client, Int32(SHUT_RDWR))
        close(client)
        upstream.shutdownBoth()
    }
}

extension LineSocket {
    /// Sends bytes as they are.
    public func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(rawDescriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written <= 0 { return }
            offset += written
        }
    }

    func shutdownBoth() {
        shutdown(rawDescriptor, Int32(SHUT_RDWR))
    }
}
