import Foundation
import TestSupport
import Testing

/// `dead-letters list` while the daemon re-delivers: a dead letter gone between the listing and its reading was
/// delivered, not damaged.
@Suite("dead-letters list during a retry")
struct DeadLettersListDuringRetryTests {
    @Test("dead-letters list while the running daemon works off a retry never reports a dead letter as unreadable")
    func listDuringRetryIsClean() throws {
        let hook = """
            #!/bin/sh
            if [ -e "$DIR/fail" ]; then exit 3; fi
            cat > /dev/null
            """
        let config = DeadLetterCommandTests.config()
            .replacingOccurrences(of: "max_attempts: 2", with: "max_attempts: 1")
            .replacingOccurrences(of: "concurrency: 1", with: "concurrency: 4")
        let harness = try DaemonHarness(
            config: config,
            files: Fixture.secretFiles.merging(["hook.sh": hook, "fail": ""]) { $1 }
        )
        let folder = harness.stateDir + "/dead-letters"
        func waiting() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
                $0.hasSuffix(".json") && !$0.hasPrefix(".")
            }.count
        }
        let total = 300
        for _ in 0..<total {
            let answer = try harness.send(Fixture.payment(), url: "https://hooks.example.com/vipps/epayment")
            try #require(answer.status == 200)
        }
        try waitUntil("\(total) dead letters", timeout: 60, log: harness.daemon.log) { waiting() == total }
        try FileManager.default.removeItem(atPath: harness.directory.path + "/fail")
        let retried = try ChildProcess.run(["dead-letters", "retry", "--all", "--config", harness.configFile])
        try #require(retried.status == 0, "\(retried.stderr)")
        var bad: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while waiting() > 0, Date() < deadline {
            let listed = try ChildProcess.run(["dead-letters", "list", "--config", harness.configFile])
            if listed.status != 0 || listed.stdout.contains("unreadable") {
                let rows = listed.stdout.split(separator: "\n").filter { $0.contains("unreadable") }
                bad.append("exit \(listed.status): \(rows.prefix(2).joined(separator: " | "))")
            }
        }
        #expect(bad.isEmpty, "\(bad.count) list runs went wrong, e.g. \(bad.first ?? "")")
    }
}
