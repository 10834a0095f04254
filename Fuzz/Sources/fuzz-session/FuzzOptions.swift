import Foundation
@_spi(Defects) import SyncStore

/// Patterns the grammar can leave out, to let a campaign get past a crash already reported
/// (set `YONGAI_FUZZ_AVOID` to a comma-separated list of the names below). Off by default:
/// CI fuzzes everything.
struct FuzzOptions {
    /// `repeated-keys`: a push never holds two states of one record (keeps the last).
    var avoidRepeatedKeys = false
    /// `maximum-timestamp`: no write is stamped with wall ms 2^47-1, and the daemon's clock
    /// never reads it (the hybrid clock then ticks its logical counter past 65535 and traps).
    var avoidMaximumTimestamp = false
    /// `YONGAI_FUZZ_TRACE=1`: print every line sent and received (to replay one input by hand).
    var trace = false
    /// `YONGAI_FUZZ_DEFECT=keep-only-winner`: the store drops merged siblings, a planted bug
    /// the lost-write check must catch (to show the harness can fail).
    var plantedDefects: StoreDefects = []

    static let current: FuzzOptions = {
        let names = Set(
            (ProcessInfo.processInfo.environment["YONGAI_FUZZ_AVOID"] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            })
        var options = FuzzOptions()
        options.avoidRepeatedKeys = names.contains("repeated-keys")
        options.avoidMaximumTimestamp = names.contains("maximum-timestamp")
        options.trace = ProcessInfo.processInfo.environment["YONGAI_FUZZ_TRACE"] == "1"
        if ProcessInfo.processInfo.environment["YONGAI_FUZZ_DEFECT"] == "keep-only-winner" {
            options.plantedDefects = .keepOnlyWinner
        }
        return options
    }()
}
