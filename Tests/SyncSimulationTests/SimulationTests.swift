@_spi(Defects) import SyncSession
@_spi(Defects) import SyncStore
import Testing

@_spi(Defects) @testable import SyncSimulation

/// The harness, run the way CI runs it, and proven able to fail.
@Suite struct SimulationTests {
    /// Every fault, at the rates `FaultOptions.all` uses.
    static var faults: FaultOptions { .all }

    static func options(seed: UInt64, devices: Int = 6, operations: Int = 120) -> SimulationOptions {
        var options = SimulationOptions(seed: seed)
        options.devices = devices
        options.operations = operations
        options.faults = faults
        return options
    }

    static func run(_ options: SimulationOptions) -> SimulationReport {
        do {
            return try Simulation(options: options).run()
        } catch {
            return SimulationReport(seed: options.seed, options: options, harnessError: error)
        }
    }

    /// 200 seeds, on every core, every invariant after every run.
    @Test func aSweepOf200SeedsUnderFaultsHoldsEveryInvariant() throws {
        let reports = try SweepRunner.run(seeds: Array(1...200), jobs: 2) { seed in Self.run(Self.options(seed: seed)) }
        #expect(reports.count == 200)
        let failures = reports.filter { !$0.ok }
        #expect(failures.isEmpty, "\(failures.map { "seed \($0.seed): \($0.violations.first ?? "")" }.prefix(5))")
        // The faults really happened.
        let counts = reports.map(\.counts)
        #expect(counts.map(\.lost).reduce(0, +) > 100)
        #expect(counts.map(\.duplicated).reduce(0, +) > 100)
        #expect(counts.map(\.crashes).reduce(0, +) > 100)
        #expect(counts.map(\.partitions).reduce(0, +) > 50)
        #expect(counts.map(\.restores).reduce(0, +) == 200)
        #expect(counts.map(\.clones).reduce(0, +) == 200)
        #expect(counts.map(\.renamings).reduce(0, +) > 100)
        #expect(reports.map(\.conflicts).reduce(0, +) > 50)
    }

    @Test func aSeedReplaysByteForByte() throws {
        for seed: UInt64 in [3, 77] {
            var options = Self.options(seed: seed)
            options.faults = .all
            let first = try Simulation(options: options).run()
            let second = try Simulation(options: options).run()
            #expect(first.digest == second.digest)
            #expect(first.json == second.json)
        }
        #expect(
            try Simulation(options: Self.options(seed: 4)).run().digest
                != Simulation(options: Self.options(seed: 5)).run().digest)
    }

    /// Seeds that once failed (a daemon restore with relayed writes, restore detection by
    /// counters), replayed with the options they failed under.
    @Test(arguments: [5, 24, 31, 40, 44, 47, 134, 215] as [UInt64])
    func pinnedSeed(seed: UInt64) throws {
        var options = Self.options(seed: seed, devices: 8, operations: 200)
        options.faults = Self.faults
        let report = Self.run(options)
        #expect(report.ok, "\(report.violations.prefix(3))")
    }

    /// Seeds that failed under the clone fault before copies were told apart by lineage (a
    /// copy's context covering the other's dot, timestamps colliding, a restore losing the
    /// entries), replayed with every fault on; 430, 1382 and 1779 hit the restore-after-clone
    /// case below and pass since pulls read ahead and group their records (the timing changed);
    /// 388 and 1200 are that case too (devices held a copy's check-ins under the dots the
    /// original reused) and pass since renamings reach every device; 74 and 1475 (the copy's
    /// write passed along in another field, at another moment, than the original's under the
    /// same dot) since one dot with two timestamps in a record counts as a clash; 353 (a
    /// device wrote over a copy's write, and after a restore the original's own write under
    /// that dot arrived first) since writes that arrive fresh are noted and a record counting
    /// one as seen before its pusher could have pulled it is refused as a clash.
    @Test(
        arguments: [
            (5, 6, 120), (48, 6, 120), (67, 6, 120), (68, 6, 120), (74, 6, 120), (115, 6, 120), (122, 6, 120),
            (139, 6, 120), (153, 6, 120), (172, 6, 120), (180, 6, 120), (353, 6, 120), (388, 6, 120),
            (430, 6, 120), (1200, 8, 200), (1382, 8, 200), (1475, 8, 200), (1779, 8, 200),
        ] as [(UInt64, Int, Int)])
    func pinnedCloneSeed(seed: UInt64, devices: Int, operations: Int) throws {
        let report = Self.run(Self.options(seed: seed, devices: devices, operations: operations))
        #expect(report.ok, "\(report.violations.prefix(3))")
        #expect(report.counts.clones == 1)
    }

    /// Known to fail: a daemon restored from a snapshot older than a cloned store's first
    /// pushes, after another device pulled a copy's record and wrote over it. The copy's
    /// context there counts its id up to its own write on the record, and so the original's
    /// write on the same record under a lower counter too (one the copy made elsewhere); once
    /// the restored daemon takes the original's write, the other device's record, whose
    /// context came from the copy, counts it as seen. Nothing in that record shows whose
    /// history the context holds (the copy's write there, a delete, was written over).
    /// Telling them apart needs contexts that say which copy's history they saw. Pinned so a
    /// fix shows: the test fails once the seed passes.
    static let knownRestoreAndClone: [(seed: UInt64, devices: Int, operations: Int)] = [
        (933, 6, 120)
    ]

    @Test(arguments: knownRestoreAndClone)
    func knownRestoreAndCloneSeed(seed: UInt64, devices: Int, operations: Int) {
        let report = Self.run(Self.options(seed: seed, devices: devices, operations: operations))
        #expect(report.counts.clones == 1 && report.counts.restores == 1)
        withKnownIssue("restore after a clone's pushes were pulled by others (seed \(seed))") {
            #expect(report.ok, "\(report.violations.prefix(2))")
        }
    }

    /// A broken system must be caught: each deliberate defect fails some seed within 200.
    @Test(arguments: ["keep only the winner", "cursor before data", "clock not advanced on merge", "push done on send"])
    func aBrokenVariantIsCaughtWithin200Seeds(defect: String) throws {
        var caught: UInt64?
        for seed in UInt64(1)...200 {
            var options = Self.options(seed: seed)
            switch defect {
            case "keep only the winner": options.storeDefects = .keepOnlyWinner
            case "cursor before data": options.sessionDefects = .cursorBeforeData
            case "clock not advanced on merge": options.storeDefects = .clockNotAdvancedOnMerge
            default: options.sessionDefects = .pushDoneOnSend
            }
            if !Self.run(options).ok {
                caught = seed
                break
            }
        }
        #expect(caught != nil, "the sweep passed a system with the defect \(defect)")
        print("defect \(defect): caught at seed \(caught.map(String.init) ?? "none")")
    }

    @Test func faultsParseAndRefuseNonsense() throws {
        let parsed = try FaultOptions(parsing: "loss=0.1,dup=0.2,reorder,partition,crash,skew=3600,restore,clone")
        #expect(parsed.loss == 0.1 && parsed.duplication == 0.2 && parsed.reorder && parsed.partition && parsed.crash)
        #expect(parsed.skewSeconds == 3_600 && parsed.restore && parsed.clone)
        #expect(try FaultOptions(parsing: "all") == .all)
        #expect(throws: SimulationError.self) { try FaultOptions(parsing: "loss=2") }
        #expect(throws: SimulationError.self) { try FaultOptions(parsing: "meteor") }
    }

    @Test func theDemoTellsTheStory() throws {
        var lines: [String] = []
        try DemoScript.run { lines.append($0) }
        let text = lines.joined(separator: "\n")
        #expect(text.contains("Conflict on stations st-001.status"))
        #expect(text.contains("Every device holds the same st-001, siblings included: yes"))
        #expect(text.contains("Open conflicts left anywhere: 0"))
        #expect(text.contains("The daemon now holds 2 check-ins"))
    }
}
