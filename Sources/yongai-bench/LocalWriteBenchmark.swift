import Foundation
import SyncCore
import SyncStore
import YongaiDomain

/// `local-write`: check-ins written through the store (counter, HLC, registers, context,
/// sequence number, materialized row) vs raw prepared inserts of the same rows.
struct LocalWriteBenchmark {
    let options: BenchmarkOptions

    func run() throws {
        let run = BenchmarkRun(name: "local-write", options: options)
        let samples = CheckinSamples(count: options.records)
        let writes = samples.rows.map { (key: $0.key, values: CheckinSamples.dictionary($0.values)) }
        let times = try run.alternate { directory in
            let store = try SyncStore(.file(directory + "/store.sqlite"), schema: options.schema)
            let seconds = try BenchmarkRun.time {
                for start in stride(from: 0, to: writes.count, by: options.batch) {
                    let batch = writes[start..<min(start + options.batch, writes.count)]
                    try store.write { transaction in try transaction.put("checkins", batch: batch) }
                }
            }
            let stored = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins") }
            precondition(stored == options.records, "the store holds \(stored ?? 0) check-ins")
            return seconds
        } baseline: { directory in
            try run.plainInserts(samples.rows, in: directory)
        }
        run.report(
            records: options.records, ours: times.ours, baseline: times.baseline, oursLabel: "store local writes",
            baselineLabel: "raw prepared inserts (plain table)", target: "at most 1.5")
    }
}
