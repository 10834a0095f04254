import Foundation
import Synchronization

/// Runs many seeds on several threads; each seed is independent (its own stores and world).
public enum SweepRunner {
    public static func run(
        seeds: [UInt64], jobs: Int, _ body: @escaping @Sendable (UInt64) throws -> SimulationReport,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) throws -> [SimulationReport] {
        let results = Mutex<[SimulationReport?]>(Array(repeating: nil, count: seeds.count))
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: min(jobs, seeds.count)) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < seeds.count else { return }
                do {
                    let report = try body(seeds[index])
                    results.withLock { $0[index] = report }
                } catch {
                    failure.withLock { $0 = error }
                }
                progress(done.wrappingAdd(1, ordering: .relaxed).newValue, seeds.count)
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0.compactMap { $0 } }
    }
}
