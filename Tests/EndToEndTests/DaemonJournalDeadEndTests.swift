import Foundation
import Glibc
import TestSupport
import Testing

/// A journal that can no longer be written nor cut back (here: its segment made immutable under the running daemon,
/// so the write and its undo both fail) is a visible dead end: webhooks get 503, `/healthz` 503, the systemd watchdog
/// is no longer fed, and an error line says why.
@Suite("daemon journal dead end")
struct DaemonJournalDeadEndTests {
    static var canMakeFilesImmutable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr")
    }

    static func chattr(_ flag: String, _ path: String) -> Int32 {
        (try? ChildProcess.run([flag, path], executable: URL(fileURLWithPath: "/usr/bin/chattr")))?.status ?? -1
    }

    @Test(.enabled(if: canMakeFilesImmutable, "needs root and chattr to make the journal segment immutable"))
    func journalThatCannotBeCutBack() throws {
        let directory = TemporaryDirectory()
        let receiver = try NotifySocket(path: directory.path + "/notify.sock")
        let harness = try DaemonHarness(
            environment: ["NOTIFY_SOCKET": receiver.notifySocket, "WATCHDOG_USEC": "200000"],
            directory: directory
        )
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-before").status == 200)
        #expect(receiver.waitFor("WATCHDOG=1"), "the watchdog is fed while the journal works")

        let journal = harness.stateDir + "/journal"
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: journal).filter { $0.hasPrefix("segment-") }.max()
        )
        #expect(Self.chattr("+i", journal + "/" + segment) == 0)
        defer { _ = Self.chattr("-i", journal + "/" + segment) }

        #expect(try harness.send(Fixture.payment(), webhookID: "wh-during").status == 503)
        try waitUntil("dead end logged", log: harness.daemon.log) {
            harness.daemon.logRecords.contains { ($0["msg"] as? String)?.hasPrefix("journal dead end") == true }
        }
        let line = try #require(
            harness.daemon.logRecords.first { ($0["msg"] as? String)?.hasPrefix("journal dead end") == true }
        )
        #expect(line["level"] as? String == "critical")
        #expect("\(line)".contains("Operation not permitted"), "says why: \(line)")
        let health = try harness.get("/healthz")
        #expect(health.status == 503)
        #expect(health.text.contains("failed"))
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-after").status == 503, "stays refused")

        receiver.drain()
        #expect(!receiver.waitFor("WATCHDOG=1", timeout: 0.6), "no ping for three watchdog periods")
        #expect(try harness.get("/healthz").status == 503, "still failed (no recovery without a restart)")
    }
}
