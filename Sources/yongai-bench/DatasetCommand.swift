import ArgumentParser
import Foundation
import SyncCore
import YongaiDomain

/// `dataset`: writes the city (stations, riders, check-ins, appeals) as CSV files, the station
/// file in the format `yongai-syncd import-stations` reads.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Write a Ningbo-sized city (stations, riders, check-ins, appeals) as CSV files.")

    @Option(help: "Directory to write stations.csv, riders.csv, checkins.csv and appeals.csv into.")
    var out: String

    @Option(help: "Scale of the city: 1.0 is Ningbo (27,392 stations, 32,100 riders).")
    var scale = 1.0

    @Option(help: "Seed: the same seed and scale give the same files, byte for byte.")
    var seed: UInt64 = 1

    @Option(help: "Check-ins and appeals of a day or of a year (day, year).")
    var span: CityDataset.Span = .day

    func validate() throws {
        guard scale > 0, scale <= 10 else { throw ValidationError("--scale must be above 0 and at most 10") }
    }

    func run() throws {
        let started = ContinuousClock.now
        let dataset = CityDataset(scale: scale, seed: seed)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let stationFields = YongaiCollections.stations.fields.map(\.name)
        let stations = try CSVFile(path: out + "/stations.csv", header: ["id"] + stationFields)
        for station in dataset.stations { try stations.write(key: station.key, station.values, stationFields) }
        try stations.close()

        let riders = try CSVFile(path: out + "/riders.csv", header: ["id"])
        for rider in dataset.riders { try riders.write([rider]) }
        try riders.close()

        let checkinFields = YongaiCollections.checkins.fields.map(\.name)
        let checkins = try CSVFile(path: out + "/checkins.csv", header: ["id"] + checkinFields)
        let total = dataset.checkinCount(span)
        let terminal = isatty(STDERR_FILENO) != 0
        for (index, checkin) in dataset.checkins(span).enumerated() {
            try checkins.write(key: checkin.key, checkin.values, checkinFields)
            if terminal, index % 100_000 == 0 {
                FileHandle.standardError.write(Data("\r  check-ins: \(index * 100 / total)%".utf8))
            }
        }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        try checkins.close()

        let appealFields = YongaiCollections.appeals.fields.map(\.name)
        let appeals = try CSVFile(path: out + "/appeals.csv", header: ["id"] + appealFields)
        for appeal in dataset.appeals(span) { try appeals.write(key: appeal.key, appeal.values, appealFields) }
        try appeals.close()

        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let counts = dataset.counts
        print("city at scale \(scale), seed \(seed), span \(span.rawValue), written to \(out)")
        for (label, count) in [
            ("rest stops", counts.restStops), ("charging/swap stations", counts.charging),
            ("partner merchants", counts.merchants), ("rider-friendly communities", counts.communities),
            ("riders", counts.riders), ("check-ins (\(span.rawValue))", total),
            ("appeals (\(span.rawValue))", dataset.appealCount(span)),
        ] {
            print("  \(label.padding(toLength: 30, withPad: " ", startingAt: 0)) \(String(format: "%9d", count))")
        }
        print(
            "{\"bench\":\"dataset\",\"stations\":\(counts.stations),\"riders\":\(counts.riders),\"checkins\":\(total),\"appeals\":\(dataset.appealCount(span)),\"seconds\":\(String(format: "%.2f", seconds))}"
        )
    }
}

extension CityDataset.Span: ExpressibleByArgument {}

/// A CSV file (RFC 4180: fields with commas, quotes or line breaks are quoted), written
/// through a buffer.
final class CSVFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(path: String, header: [String]) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ValidationError("cannot create \(path)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try write(header)
    }

    /// One record: the key, then each named field's value (empty when absent or null).
    func write(key: String, _ values: [String: FieldValue], _ fields: [String]) throws {
        try write(
            [key]
                + fields.map { field in
                    switch values[field] {
                    case .text(let text): text
                    case .integer(let number): String(number)
                    case .real(let number): String(number)
                    case .bool(let flag): flag ? "true" : "false"
                    case .null, nil: ""
                    }
                })
    }

    func write(_ fields: [String]) throws {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            if field.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 < 0x20 }) {
                buffer.append(UInt8(ascii: "\""))
                for byte in field.utf8 {
                    if byte == UInt8(ascii: "\"") { buffer.append(byte) }
                    buffer.append(byte)
                }
                buffer.append(UInt8(ascii: "\""))
            } else {
                buffer.append(contentsOf: field.utf8)
            }
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count > 1 << 20 { try flush() }
    }

    func close() throws {
        try flush()
        try handle.close()
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
