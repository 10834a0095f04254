import Foundation

/// Which faults a simulation injects, and how often.
public struct FaultOptions: Sendable, Hashable, CustomStringConvertible {
    /// Chance that a message is lost (the connection then times out and is retried).
    public var loss = 0.0
    /// Chance that a message is delivered twice.
    public var duplication = 0.0
    /// Messages take random extra delays and may overtake each other.
    public var reorder = false
    /// Devices go offline for long stretches; the daemon becomes unreachable for everyone.
    public var partition = false
    /// Devices and the daemon crash at any step of a sync (a transaction in flight is lost)
    /// and restart from their committed stores.
    public var crash = false
    /// Each device's wall clock is off by up to this many seconds, and clocks jump.
    public var skewSeconds = 0
    /// The daemon is restored from an older snapshot of its store.
    public var restore = false
    /// A device's store is copied to a second device with the same replica id.
    public var clone = false

    public init() {}

    /// Every fault on, at the rates the CI sweep uses.
    public static var all: FaultOptions {
        var faults = FaultOptions()
        faults.loss = 0.05
        faults.duplication = 0.05
        faults.reorder = true
        faults.partition = true
        faults.crash = true
        faults.skewSeconds = 3_600
        faults.restore = true
        faults.clone = true
        return faults
    }

    /// Parses `loss=0.1,dup=0.1,reorder,partition,crash,skew=3600,restore,clone` (or `all`,
    /// or `none`).
    public init(parsing text: String) throws(SimulationError) {
        self.init()
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0]
            let value = parts.count > 1 ? parts[1] : nil
            func rate() throws(SimulationError) -> Double {
                guard let value, let rate = Double(value), (0...0.9).contains(rate) else {
                    throw SimulationError("\(name) takes a rate from 0 to 0.9, as \(name)=0.1")
                }
                return rate
            }
            switch name {
            case "all": self = .all
            case "none": self = FaultOptions()
            case "loss": loss = try rate()
            case "dup", "duplication": duplication = try rate()
            case "reorder": reorder = true
            case "partition": partition = true
            case "crash": crash = true
            case "skew":
                guard let value, let seconds = Int(value), (0...86_400).contains(seconds) else {
                    throw SimulationError("skew takes seconds from 0 to 86400, as skew=3600")
                }
                skewSeconds = seconds
            case "restore": restore = true
            case "clone": clone = true
            default:
                throw SimulationError(
                    "unknown fault \(name.debugDescription): use loss=R, dup=R, reorder, partition, crash, skew=S, restore, clone, all, none"
                )
            }
        }
    }

    public var description: String {
        var parts: [String] = []
        if loss > 0 { parts.append("loss=\(loss)") }
        if duplication > 0 { parts.append("dup=\(duplication)") }
        if reorder { parts.append("reorder") }
        if partition { parts.append("partition") }
        if crash { parts.append("crash") }
        if skewSeconds > 0 { parts.append("skew=\(skewSeconds)") }
        if restore { parts.append("restore") }
        if clone { parts.append("clone") }
        return parts.isEmpty ? "none" : parts.joined(separator: ",")
    }
}

/// A refusal of the simulator's options, for people: one readable line.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
