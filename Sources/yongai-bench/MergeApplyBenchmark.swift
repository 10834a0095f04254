import Foundation
import SyncCore
import SyncStore
import YongaiDomain

/// `merge-apply`: remote check-in states merged into a fresh store (validation, join,
/// materialization, sequence numbers, cursor) vs raw prepared inserts of the same rows.
struct MergeApplyBenchmark {
    let options: BenchmarkOptions

    func run() throws {
        let run = BenchmarkRun(name: "merge-apply", options: options)
        let samples = CheckinSamples(count: options.records)
        let source = try SyncStore(.inMemory, schema: options.schema)
        for start in stride(from: 0, to: samples.rows.count, by: 10_000) {
            try source.write { transaction in
                for row in samples.rows[start..<min(start + 10_000, samples.rows.count)] {
                    try transaction.put("checkins", key: row.key, CheckinSamples.dictionary(row.values))
                }
            }
        }
        let remote = try source.changes(after: 0, limit: options.records).changes.map(\.record)
        let times = try run.alternate { directory in
            let store = try SyncStore(.file(directory + "/store.sqlite"), schema: options.schema)
            let seconds = try BenchmarkRun.time {
                for start in stride(from: 0, to: remote.count, by: options.batch) {
                    let end = min(start + options.batch, remote.count)
                    try store.merge(Array(remote[start..<end]), cursor: (name: "source", value: Int64(end)))
                }
            }
            let stored = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkins") }
            precondition(stored == options.records, "the store holds \(stored ?? 0) check-ins")
            return seconds
        } baseline: { directory in
            try run.plainInserts(samples.rows, in: directory)
        }
        run.report(
            records: options.records, ours: times.ours, baseline: times.baseline,
            oursLabel: "store merge of remote states",
            baselineLabel: "raw prepared inserts (plain table)", target: "ours at least 50,000 rec/s")
    }
}
