import ArgumentParser
import Foundation
import SyncSimulation

/// The conflict-simulation harness: deterministic, seeded runs of the whole system under
/// loss, duplication, reordering, partitions, crashes, clock skew, restores and clones.
@main
struct YongaiSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yongai-sim",
        abstract: "Deterministic, seeded simulation of daemon and devices under faults, with invariant checks.",
        subcommands: [Run.self, Sweep.self, Demo.self])
}

struct RunOptions: ParsableArguments {
    @Option(help: "Device replicas besides the daemon.")
    var devices = 8

    @Option(help: "Workload operations before the network heals.")
    var ops = 200

    @Option(help: "Faults: loss=R,dup=R,reorder,partition,crash,skew=SECONDS,restore,clone (or all, none).")
    var faults = "none"

    func validate() throws {
        guard (3...200).contains(devices) else { throw ValidationError("--devices must be 3-200") }
        guard (1...100_000).contains(ops) else { throw ValidationError("--ops must be 1-100000") }
        do { _ = try FaultOptions(parsing: faults) } catch { throw ValidationError(error.description) }
    }

    func simulationOptions(seed: UInt64) throws -> SimulationOptions {
        var options = SimulationOptions(seed: seed)
        options.devices = devices
        options.operations = ops
        options.faults = try FaultOptions(parsing: faults)
        return options
    }

    var replayArguments: String { "--devices \(devices) --ops \(ops) --faults \(faults)" }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One seeded run: a short report, then one JSON line.")

    @Option(help: "The seed: the same seed and options give the same run, byte for byte.")
    var seed: UInt64

    @OptionGroup var settings: RunOptions

    @Option(help: "Write the full event history here, as JSON lines.")
    var trace: String?

    @Option(help: "Draw pending changes per replica and open conflicts over virtual time here (SVG).")
    var plot: String?

    func run() throws {
        let writer = try trace.map { try TraceWriter(path: $0) }
        let options = try settings.simulationOptions(seed: seed)
        let simulation = try Simulation(options: options, trace: writer)
        let report: SimulationReport
        do {
            report = try simulation.run()
        } catch {
            report = SimulationReport(seed: seed, options: options, harnessError: error)
        }
        writer?.flush()
        if let plot {
            try simulation.plotSVG().write(toFile: plot, atomically: true, encoding: .utf8)
        }
        print(report.summary)
        print(report.json)
        if !report.ok { throw ExitCode(1) }
    }
}

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Many seeds on every core: a summary table, and the exact command replaying each failure.")

    @Option(help: "Seeds to run: a range like 1-1000, or a list like 3,17,42.")
    var seeds = "1-200"

    @OptionGroup var settings: RunOptions

    @Option(help: "Parallel workers (default: one per core).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let list = try Self.parse(seeds)
        let started = Date()
        let settings = settings
        let results = try SweepRunner.run(seeds: list, jobs: max(1, jobs)) { seed in
            let options = try settings.simulationOptions(seed: seed)
            do {
                return try Simulation(options: options).run()
            } catch {
                return SimulationReport(seed: seed, options: options, harnessError: error)
            }
        } progress: { done, total in
            if isatty(STDERR_FILENO) != 0 {
                FileHandle.standardError.write(Data("\r\(done)/\(total) seeds".utf8))
            }
        }
        if isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\r".utf8)) }
        let failures = results.filter { !$0.ok }
        let totals = results.reduce(into: (writes: 0, syncs: 0, messages: 0, lost: 0, crashes: 0, conflicts: 0)) {
            $0.writes += $1.counts.writes
            $0.syncs += $1.counts.syncsCompleted
            $0.messages += $1.counts.messages
            $0.lost += $1.counts.lost
            $0.crashes += $1.counts.crashes
            $0.conflicts += $1.conflicts
        }
        print("seeds    passed   failed   writes    syncs    messages   lost     crashes  conflicts  seconds")
        print(
            String(
                format: "%-8d %-8d %-8d %-9d %-8d %-10d %-8d %-8d %-10d %.1f", results.count,
                results.count - failures.count,
                failures.count, totals.writes, totals.syncs, totals.messages, totals.lost, totals.crashes,
                totals.conflicts,
                Date().timeIntervalSince(started)))
        for failure in failures {
            print("FAILED seed \(failure.seed): \(failure.violations.first ?? "")")
            print("  replay: yongai-sim run --seed \(failure.seed) \(settings.replayArguments)")
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    static func parse(_ text: String) throws -> [UInt64] {
        if let dash = text.firstIndex(of: "-"), let low = UInt64(text[..<dash]),
            let high = UInt64(text[text.index(after: dash)...]), low <= high
        {
            return Array(low...high)
        }
        let list = text.split(separator: ",").compactMap { UInt64($0) }
        guard !list.isEmpty else { throw ValidationError("--seeds takes a range like 1-1000 or a list like 3,17,42") }
        return list
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A short narrated run for a newcomer.")

    func run() throws {
        try DemoScript.run { print($0) }
    }
}
