import Synchronization

/// Tells subscribed connections that the store may hold new changes. Bursts coalesce: a
/// listener busy sending sees one more wake-up, not one per change.
final class ChangeHub: Sendable {
    private let listeners = Mutex<[Int: AsyncStream<Void>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    /// A stream of wake-ups, starting with one so the listener catches up at once.
    func listen() -> (id: Int, wakeUps: AsyncStream<Void>) {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        continuation.yield()
        listeners.withLock { $0[id] = continuation }
        return (id, stream)
    }

    func stopListening(_ id: Int) {
        listeners.withLock { $0.removeValue(forKey: id) }?.finish()
    }

    func notify() {
        listeners.withLock { listeners in
            for continuation in listeners.values { continuation.yield() }
        }
    }

    func finishAll() {
        let all = listeners.withLock { listeners in
            defer { listeners.removeAll() }
            return Array(listeners.values)
        }
        for continuation in all { continuation.finish() }
    }
}
