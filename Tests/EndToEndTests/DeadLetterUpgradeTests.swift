import Foundation
import TestSupport
import Testing

/// A dead letter left by the release the CHANGELOG upgrades from (424e75c: named `<sequence>-<sink>.json`,
/// the event id its `webhook-id`, no `source`), retried with `dead-letters retry` against the running daemon.
@Suite("dead letters of 424e75c after the upgrade", .serialized)
struct DeadLetterUpgradeTests {
    static let hook = """
        #!/bin/sh
        if [ -e "$DIR/fail" ]; then echo "flag $DIR/fail is set" >&2; exit 3; fi
        cat >> "$DIR/hook.out"
        """

    static let config = """
        listen: "127.0.0.1:0"
        public_url: "https://hooks.example.com"
        state_dir: "$DIR/state"
        log: { format: json, level: info }
        endpoints:
          - path: "/vipps/epayment"
            secret_file: "$DIR/secret"
            routes:
              - events: ["*"]
                sinks: ["fulfil"]
        sinks:
          fulfil:
            exec: ["$DIR/hook.sh"]
            timeout_seconds: 5
            max_attempts: 2
            concurrency: 1
        """

    @Test(
        "a 424e75c dead letter whose retry fails again stays one dead letter; the next retry --all runs the hook once"
    )
    func legacyDeadLetterRetriedTwice() throws {
        let harness = try DaemonHarness(
            config: Self.config,
            files: Fixture.secretFiles.merging(["hook.sh": Self.hook, "fail": ""]) { $1 }
        )
        let folder = harness.stateDir + "/dead-letters"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let body = Fixture.payment(reference: "order-424")
        let name = "00000000000000000042-fulfil.json"
        let legacy = """
            {"attempts":8,"dead_lettered_at_ms":1763900000000,"event":{"body_base64":"\(Data(body.utf8).base64EncodedString())",\
            "endpoint":"/vipps/epayment","id":"6f1d0c52-legacy-webhook-id","received_at_ms":1763890000000,"sequence":42,\
            "type":"epayments.payment.captured.v1"},"first_attempt_at_ms":1763890000000,"last_error":{"exit_code":3,\
            "kind":"exit","message":"exit 3","stderr_tail":""},"line":"{}","sink":"fulfil","version":1}

            """
        #expect(FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: Data(legacy.utf8)))
        func letters() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
                $0.hasSuffix(".json") && !$0.hasPrefix(".")
            }.sorted()
        }

        // The hook still fails: the retry ends with the dead letter rewritten.
        let first = try ChildProcess.run(["dead-letters", "retry", name, "--config", harness.configFile])
        #expect(first.status == 0, "\(first.stderr)")
        try waitUntil("retry failed again", timeout: 15, log: harness.daemon.log) {
            !harness.daemon.logged("retried dead letter failed again; its file is replaced").isEmpty
        }
        let listed = try ChildProcess.run(["dead-letters", "list", "--config", harness.configFile])
        #expect(letters().count == 1, "one event, one sink, but: \(letters())\n\(listed.stdout)")

        // Fixed; the operator retries everything listed.
        try FileManager.default.removeItem(atPath: harness.directory.path + "/fail")
        let all = try ChildProcess.run(["dead-letters", "retry", "--all", "--config", harness.configFile])
        #expect(all.status == 0, "\(all.stderr)")
        try waitUntil("dead letters worked off", timeout: 15, log: harness.daemon.log) { letters().isEmpty }
        Thread.sleep(forTimeInterval: 0.5)
        let runs = harness.lines("hook.out")
        #expect(runs.count == 1, "the hook succeeded \(runs.count) times for one event")
    }
}
