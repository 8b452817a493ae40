import Foundation
import HTTPServer
import TestSupport
import Testing

/// Failure paths reach the operator: a clear error for bad input, a bounded log line, and a metric the operator can
/// alert on for every failure that is logged.
@Suite("failure paths reach the operator")
struct FailurePathReportingTests {
    /// A daemon whose events go to the file sink `events` and to the exec sink `hook`, whose hook always fails and
    /// gets one attempt: each event becomes a dead letter of `hook`.
    static func daemonWithAFailingHook() throws -> DaemonHarness {
        let config = Fixture.basicConfig(
            extraSinks: """
                  hook:
                    exec: ["$DIR/hook.sh"]
                    max_attempts: 1
                """,
            routes: #"      - { events: ["*"], sinks: ["events", "hook"] }"#
        )
        return try DaemonHarness(config: config, files: Fixture.hookFiles("#!/bin/sh\nexit 1\n"))
    }

    /// The value of the sample `name` with exactly `labels` in `text` (the Swift exposition parser), or nil.
    static func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
        PrometheusText.parse(text).samples(named: name).first { $0.labels == labels }?.value
    }

    @Test("send --body-file naming a directory is refused with a clear error; no empty body is signed and sent")
    func sendBodyFileThatCannotBeReadIsRefused() throws {
        let receiver = try RecordingReceiver()
        defer { receiver.stop() }
        let dir = TemporaryDirectory()
        // open(2) of a directory with O_RDONLY succeeds; read(2) then fails with EISDIR.
        let out = try ChildProcess.run(
            [
                "send", "--secret-env", "E2E_SECRET", "--url", "http://127.0.0.1:\(receiver.port)/hook",
                "--body-file", dir.path,
            ],
            environment: ["E2E_SECRET": "failure-path-secret"]
        )
        #expect(out.status != 0, "exit \(out.status): \(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("cannot read body file"), "stderr: \(out.stderr)")
        #expect(
            receiver.requests.isEmpty,
            "a signed request went out with a \(receiver.requests.first?.body.count ?? -1)-byte body"
        )
    }

    @Test("the request line's findings field is bounded whatever member names the event's body has")
    func findingsFieldIsBounded() throws {
        let harness = try DaemonHarness(config: Fixture.basicConfig(maxBodyBytes: 256 * 1024))
        // 400 members, each named by 250 bytes of the event's own text and holding a NUL: one finding each.
        let members = (0..<400).map { number in
            "\"\(String(format: "%03d", number))\(String(repeating: "k", count: 247))\":\"\\u0000\""
        }
        let body = "{" + members.joined(separator: ",") + "}"
        #expect(try harness.send(body).status == 200)
        try waitUntil("request logged", log: "") {
            harness.daemon.logged("request").contains { $0["findings"] != nil }
        }
        let line = try #require(harness.daemon.logged("request").first { $0["findings"] != nil })
        let findings = try #require(line["findings"] as? String)
        // Client- or event-supplied text in a log line is cut (LogText keeps 200 bytes; webhook-id at most 200).
        #expect(
            findings.utf8.count <= 4096,
            "one log line carries \(findings.utf8.count) bytes of the body's member names"
        )
    }

    @Test("vipps_webhookd_dead_letters still counts a dead letter after a restart without its sink")
    func deadLettersOfAnUnconfiguredSinkStayCounted() throws {
        let harness = try Self.daemonWithAFailingHook()
        #expect(try harness.send(Fixture.payment()).status == 200)
        try waitUntil("dead letter counted", log: harness.daemon.log) {
            Self.sample(try harness.get("/metrics").text, "vipps_webhookd_dead_letters", ["sink": "hook"]) == 1
        }

        // The operator takes the sink out of the configuration (its dead letters wait for a decision) and restarts.
        _ = try harness.daemon.stop()
        try harness.rewriteConfig(Fixture.basicConfig())
        try harness.daemon.restart()
        let folder = harness.stateDir + "/dead-letters"
        let letters = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
        #expect(letters.count == 1, "\(letters)")

        let text = try harness.get("/metrics").text
        let waiting = PrometheusText.parse(text).samples(named: "vipps_webhookd_dead_letters")
        #expect(
            Self.sample(text, "vipps_webhookd_dead_letters", ["sink": "hook"]) == 1,
            "a dead letter waits in \(folder) but /metrics reports: \(waiting)"
        )
    }

    @Test("an exec sink's dead letter that cannot be written moves a counter a shipped alert rule watches")
    func deadLetterWriteFailureIsAlertable() throws {
        let harness = try Self.daemonWithAFailingHook()
        // The dead-letter folder goes away (as a full or failing disk would refuse the write).
        try FileManager.default.removeItem(atPath: harness.stateDir + "/dead-letters")
        #expect(try harness.send(Fixture.payment()).status == 200)
        let message = "cannot write dead letter; the event keeps its place and the write is tried again"
        try waitUntil("dead-letter write failed", log: harness.daemon.log) {
            !harness.daemon.logged(message).isEmpty
        }

        let text = try harness.get("/metrics").text
        #expect(Self.sample(text, "vipps_webhookd_dead_letter_write_errors_total", ["sink": "hook"]) ?? 0 >= 1)
        let storageErrors = PrometheusText.parse(text).samples(named: "vipps_webhookd_storage_errors_total")
        let rules = try String(
            contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("config/prometheus-alerts.yml").path,
            encoding: .utf8
        )
        // VippsWebhookdStorageErrors says it covers "a journal, sink file or dead-letter write failed".
        let alertable =
            storageErrors.contains { $0.value > 0 } || rules.contains("vipps_webhookd_dead_letter_write_errors_total")
        #expect(
            alertable,
            "logged critical and counted only in dead_letter_write_errors_total, which no rule in config/prometheus-alerts.yml watches; storage_errors_total: \(storageErrors)"
        )
    }

    @Test("a reconciliation that fails without an API error (endpoint not configured) is counted in a metric")
    func reconciliationFailureIsCounted() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try DaemonReconciliationTests.harness(api: api)
        let msn = DaemonReconciliationTests.msn
        let reference = "order-\(UUID().uuidString.prefix(8))"
        api.setLog(reference, msn: msn, [FakeEPaymentAPI.Entry(pspReference: "psp-c", name: "CAPTURED")])
        let before = try harness.get("/metrics").text

        let out = try DaemonReconciliationTests.reconcile(
            harness,
            ["--reference", reference, "--msn", msn, "--endpoint", "/not/configured"]
        )
        #expect(out.status != 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("not configured"), "\(out.stdout)")
        try waitUntil("failure logged", log: harness.daemon.log) {
            !harness.daemon.logged("reconciliation failed").isEmpty
        }

        // Every reconcile counter but the two that count work done (checks, events added): the failures.
        func failures(_ text: String) -> Double {
            PrometheusText.parse(text).samples.filter {
                $0.name.hasPrefix("vipps_webhookd_reconcile_") && $0.name != "vipps_webhookd_reconcile_checks_total"
                    && $0.name != "vipps_webhookd_reconcile_events_added_total"
            }.reduce(0) { $0 + $1.value }
        }
        let after = try harness.get("/metrics").text
        #expect(Self.sample(after, "vipps_webhookd_reconcile_checks_total") == 1)
        #expect(
            failures(after) - failures(before) >= 1,
            "the failure was logged, but no reconcile failure counter moved: \(PrometheusText.parse(after).samples.filter { $0.name.hasPrefix("vipps_webhookd_reconcile_") })"
        )
    }

    @Test(
        "every storage_errors_total operation has its series at 0 from the start, so the alert sees its first failure"
    )
    func storageErrorSeriesStartAtZero() throws {
        let harness = try DaemonHarness()
        let text = try harness.get("/metrics").text
        for operation in [
            "journal", "read_pending", "mark_delivered", "mark_at_shutdown", "file_write", "file_reopen",
            "file_recreate", "dead_letter", "dead_letter_count", "statvfs",
        ] {
            #expect(
                Self.sample(text, "vipps_webhookd_storage_errors_total", ["operation": operation]) == 0,
                "\(operation)"
            )
        }
        _ = try harness.daemon.stop()
    }
}
