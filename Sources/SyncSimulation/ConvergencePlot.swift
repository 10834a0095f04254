import Foundation
import SyncStore

/// Samples, over virtual time, each replica's pending changes and the daemon's open
/// conflicts, and draws them as an SVG line chart so a person can watch a run converge.
struct ConvergencePlot {
    struct Sample {
        let time: Int64
        let pending: [Int]
        let conflicts: Int
    }

    private(set) var samples: [Sample] = []
    private(set) var names: [String] = []

    mutating func sample(_ simulation: Simulation) throws {
        names = simulation.devices.map(\.name)
        let pending = try simulation.devices.map { device in
            try device.store.changeCount(after: device.store.cursor(named: "daemon.push"))
        }
        samples.append(
            Sample(
                time: simulation.time.now - VirtualTime.start, pending: pending,
                conflicts: try simulation.daemonStore.conflicts().count))
    }

    /// The chart as an SVG document.
    func svg(title: String) -> String {
        let width = 900.0
        let height = 420.0
        let left = 60.0
        let bottom = 40.0
        let top = 40.0
        let right = 160.0
        let lastTime = Double(max(samples.last?.time ?? 1, 1))
        let highest = Double(max(samples.flatMap { $0.pending + [$0.conflicts] }.max() ?? 1, 1))
        func x(_ time: Int64) -> Double { left + Double(time) / lastTime * (width - left - right) }
        func y(_ value: Int) -> Double { height - bottom - Double(value) / highest * (height - top - bottom) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="20" font-size="14">\(title)</text>
            <line x1="\(left)" y1="\(height - bottom)" x2="\(width - right)" y2="\(height - bottom)" stroke="black"/>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(height - bottom)" stroke="black"/>
            <text x="\(left)" y="\(height - 10)">0 s</text>
            <text x="\(width - right - 40)" y="\(height - 10)">\(Int(lastTime / 1000)) s (virtual)</text>
            <text x="10" y="\(top + 5)">\(Int(highest))</text>
            <text x="10" y="\(height - bottom)">0</text>

            """
        let palette = [
            "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        ]
        for (index, name) in names.enumerated() {
            let points = samples.filter { index < $0.pending.count }.map { "\(x($0.time)),\(y($0.pending[index]))" }
            let colour = palette[index % palette.count]
            out +=
                "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.2\" points=\"\(points.joined(separator: " "))\"/>\n"
            out +=
                "<text x=\"\(width - right + 10)\" y=\"\(top + Double(index) * 14)\" fill=\"\(colour)\">\(name) pending</text>\n"
        }
        let conflictPoints = samples.map { "\(x($0.time)),\(y($0.conflicts))" }
        out +=
            "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2.5\" stroke-dasharray=\"6 3\" points=\"\(conflictPoints.joined(separator: " "))\"/>\n"
        out +=
            "<text x=\"\(width - right + 10)\" y=\"\(top + Double(names.count) * 14 + 6)\" fill=\"#d62728\">open conflicts</text>\n"
        out += "</svg>\n"
        return out
    }
}
