import Foundation
import TestSupport
import Testing

/// Only one daemon at a time on a state directory: a second `serve` on it exits non-zero with an error naming the
/// directory before it opens the journal, and the running daemon's journal is left as it was.
@Suite("daemon state directory lock")
struct DaemonStateLockTests {
    /// Every file under the state directory's journal, by name.
    static func journalFiles(_ harness: DaemonHarness) throws -> [String: Data] {
        let journal = harness.stateDir + "/journal"
        var files: [String: Data] = [:]
        // The next segment, zero-filled in the background after start (slowly on a loaded machine), holds no record.
        for name in try FileManager.default.contentsOfDirectory(atPath: journal) where name != "next-segment.tmp" {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: journal + "/" + name))
        }
        return files
    }

    @Test("a second serve on the same state_dir exits non-zero naming it; the first daemon's journal is untouched")
    func secondDaemonOnTheSameStateDirectoryRefusesToStart() throws {
        // Events held in the journal (their hook always fails), so recovery by a second daemon would have work to do.
        let harness = try DaemonHarness(config: DaemonJournalCorruptionTests.holdingConfig())
        for number in 0..<5 {
            let response = try harness.send(Fixture.payment(reference: "order-lock-\(number)"))
            #expect(response.status == 200, "\(response)")
        }
        let before = try Self.journalFiles(harness)

        let second = try DaemonProcess(
            arguments: ["serve", "--config", harness.configFile],
            workingDirectory: harness.directory.url,
            waitUntilReady: false
        )
        let status = try second.waitForExit(timeout: 10)
        #expect(status != 0)
        let refusals = second.logged("cannot start").filter {
            "\($0["error"] ?? "")".contains("state_dir \(harness.stateDir) is in use")
        }
        #expect(refusals.count == 1, "the error names the directory:\n\(second.log)")
        #expect(second.logged("event store opened").count == 1, "only the first daemon opened the store")
        #expect(try Self.journalFiles(harness) == before, "the running daemon's journal is untouched")

        #expect(try harness.send(Fixture.payment(reference: "order-lock-after")).status == 200, "the first serves on")
        #expect(try harness.daemon.stop() == 0)
        try harness.daemon.restart()  // the lock died with the first process
        #expect(try harness.get("/healthz").status == 200)
    }
}
