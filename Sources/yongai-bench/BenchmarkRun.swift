import Foundation
import SyncCore

/// Timing and reporting shared by the benchmarks: fresh directories, alternating rounds,
/// medians, a readable table and the last-line JSON.
struct BenchmarkRun {
    let name: String
    let options: BenchmarkOptions

    /// A fresh directory for one round.
    func makeDirectory(_ label: String) -> String {
        let base = options.directory ?? NSTemporaryDirectory()
        let path = base + "/yongai-bench-\(name)-\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs both sides `options.rounds` times, alternating which goes first so warm-up and
    /// drift favour neither, each round in a fresh directory; returns their times.
    func alternate(ours: (String) throws -> Double, baseline: (String) throws -> Double) throws -> (
        ours: [Double], baseline: [Double]
    ) {
        var oursTimes: [Double] = []
        var baselineTimes: [Double] = []
        for round in 0..<options.rounds {
            for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                let directory = makeDirectory("\(round)-\(side)")
                defer { removeDirectory(directory) }
                if side == 0 {
                    oursTimes.append(try ours(directory))
                } else {
                    baselineTimes.append(try baseline(directory))
                }
            }
        }
        return (oursTimes, baselineTimes)
    }

    /// The plain-table baseline both write benchmarks share: the rows inserted in batches.
    func plainInserts(_ rows: [(key: String, values: [FieldValue])], in directory: String) throws -> Double {
        let table = try PlainTable(path: directory + "/plain.sqlite")
        return try BenchmarkRun.time {
            for start in stride(from: 0, to: rows.count, by: options.batch) {
                try table.insert(rows[start..<min(start + options.batch, rows.count)])
            }
        }
    }

    /// Seconds taken by `body`.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Seconds taken by an async `body`.
    static func timeAsync(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// One line of a side-by-side table.
    static func row(_ label: String, _ times: [Double], _ rate: Double) -> String {
        let padded = label.padding(toLength: 44, withPad: " ", startingAt: 0)
        let rounds = times.map { String(format: "%.3f", $0) }.joined(separator: " ")
        return "\(padded) \(String(format: "%12.0f", rate)) rec/s   rounds (s): \(rounds)"
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Prints the side-by-side table and the JSON line; the ratio is baseline rate / ours.
    func report(
        records: Int, ours: [Double], baseline: [Double], oursLabel: String, baselineLabel: String, target: String
    ) {
        let oursRate = Double(records) / BenchmarkRun.median(ours)
        let baselineRate = Double(records) / BenchmarkRun.median(baseline)
        let ratio = baselineRate / oursRate
        print("\(name): \(records) records, batches of \(options.batch), \(options.rounds) rounds per side (median)")
        print(BenchmarkRun.row(oursLabel, ours, oursRate))
        print(BenchmarkRun.row(baselineLabel, baseline, baselineRate))
        print(String(format: "ratio (baseline rate / ours): %.2f   target: %@", ratio, target))
        print(
            "{\"bench\":\"\(name)\",\"records\":\(records),\"ours_per_s\":\(Int(oursRate)),\"baseline_per_s\":\(Int(baselineRate)),\"ratio\":\(String(format: "%.3f", ratio))}"
        )
    }
}
