import Foundation
import SyncTesting
import Testing

/// `yongai-bench dataset`, run as a built binary: the same seed writes the same files, and
/// the daemon imports the station file it writes.
@Suite struct DatasetCLITests {
    @Test func theSameSeedWritesTheSameCityAndTheDaemonImportsItsStations() throws {
        let directory = TemporaryDirectory("dataset")
        defer { directory.remove() }
        let arguments = ["dataset", "--scale", "0.05", "--seed", "3", "--out"]
        let first = try DaemonProcess.run("yongai-bench", arguments + [directory.file("first")])
        #expect(first.status == 0, "\(first.error)")
        let again = try DaemonProcess.run("yongai-bench", arguments + [directory.file("again")])
        let other = try DaemonProcess.run(
            "yongai-bench", ["dataset", "--scale", "0.05", "--seed", "4", "--out", directory.file("other")])
        #expect(again.status == 0 && other.status == 0)
        for file in ["stations.csv", "riders.csv", "checkins.csv", "appeals.csv"] {
            let bytes = FileManager.default.contents(atPath: directory.file("first") + "/" + file)
            #expect(bytes != nil && bytes!.count > 100, "\(file)")
            #expect(bytes == FileManager.default.contents(atPath: directory.file("again") + "/" + file), "\(file)")
            // Rider ids are numbered; everything else moves with the seed.
            if file != "riders.csv" {
                #expect(bytes != FileManager.default.contents(atPath: directory.file("other") + "/" + file), "\(file)")
            }
        }
        // The last line is the JSON summary; at scale 0.05 the city has 1,370 stations.
        let summary = first.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.hasPrefix("{\"bench\":\"dataset\",\"stations\":1370,\"riders\":1605,"), "\(summary)")

        let imported = try DaemonProcess.command([
            "import-stations", "--data", directory.file("daemon"), directory.file("first") + "/stations.csv",
        ])
        #expect(imported == "imported 1370 stations into \(directory.file("daemon"))")
        let bad = try DaemonProcess.run(
            "yongai-bench", ["dataset", "--scale", "0", "--out", directory.file("bad")])
        #expect(bad.status != 0 && bad.error.contains("--scale"))
    }
}
