import Foundation
import Glibc
import TestSupport
import Testing

/// Unauthenticated requests write a bounded number of log lines: while /healthz answers 503 (draining, or a
/// journal dead end), its error lines go through the refusals' rate limit (503 is not a 4xx: the connection stays
/// open for the next request).
@Suite("/healthz 503 log lines")
struct HealthzLogLinesTests {
    @Test("300 GET /healthz on one keep-alive connection while draining write at most a rate-limited few lines")
    func healthzDuringDrainIsRateLimited() throws {
        let hook = """
            #!/bin/sh
            echo start >> "$DIR/hooked"
            while [ ! -e "$DIR/release" ]; do sleep 0.05; done
            """
        let harness = try DaemonHarness(
            config: DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#, concurrency: 1, grace: 10),
            files: Fixture.hookFiles(hook)
        )
        defer {
            // Let the hook end before the directory goes (it would loop on, orphaned).
            try? harness.directory.write("release", "")
            _ = try? harness.daemon.waitForExit(timeout: 10)
        }
        #expect(try harness.send(Fixture.payment()).status == 200)
        try waitUntil("hook started", log: harness.daemon.log) { harness.lines("hooked") == ["start"] }
        harness.daemon.signal(SIGTERM)
        try waitUntil("draining", log: harness.daemon.log) { !harness.daemon.logged("shutting down").isEmpty }

        let client = try RawClient(port: Int(harness.port))
        let count = 300
        var answered = 0
        for _ in 0..<count {
            try client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let answer = try client.readResponse()
            #expect(answer.status == 503)
            answered += 1
        }
        #expect(answered == count, "the connection stayed open for every request")
        Thread.sleep(forTimeInterval: 0.5)
        let lines = harness.daemon.logged("request").filter {
            $0["endpoint"] as? String == "/healthz" && $0["level"] as? String == "error"
        }
        #expect(lines.count <= 40, "\(lines.count) error lines for \(count) unauthenticated GET /healthz")
    }

    @Test(
        "after a journal dead end (lasts until a restart) 300 GET /healthz write at most a rate-limited few lines",
        .enabled(if: DaemonJournalDeadEndTests.canMakeFilesImmutable, "needs root and chattr")
    )
    func healthzAfterDeadEndIsRateLimited() throws {
        let harness = try DaemonHarness()
        #expect(try harness.send(Fixture.payment()).status == 200)
        let journal = harness.stateDir + "/journal"
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: journal).filter { $0.hasPrefix("segment-") }.max()
        )
        #expect(DaemonJournalDeadEndTests.chattr("+i", journal + "/" + segment) == 0)
        defer { _ = DaemonJournalDeadEndTests.chattr("-i", journal + "/" + segment) }
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-during").status == 503)
        try waitUntil("dead end logged", log: harness.daemon.log) {
            harness.daemon.logRecords.contains { ($0["msg"] as? String)?.hasPrefix("journal dead end") == true }
        }
        let client = try RawClient(port: Int(harness.port))
        let count = 300
        for _ in 0..<count {
            try client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().status == 503)
        }
        Thread.sleep(forTimeInterval: 0.5)
        let lines = harness.daemon.logged("request").filter {
            $0["endpoint"] as? String == "/healthz" && $0["level"] as? String == "error"
        }
        #expect(lines.count <= 40, "\(lines.count) error lines for \(count) unauthenticated GET /healthz")
    }
}
