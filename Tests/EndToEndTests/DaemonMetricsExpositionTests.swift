import Foundation
import TestSupport
import Testing

/// Issue 17: `/metrics` read by Prometheus' own client library parser — HELP and TYPE on every family, one name per
/// meaning, the series of every configured endpoint and sink from the start, dead letters waiting, build info.
@Suite("daemon metrics exposition")
struct DaemonMetricsExpositionTests {
    /// What `scripts/parse-metrics.py` found: family name → (type, help) and every sample.
    struct Parsed: Decodable {
        struct Family: Decodable {
            var type: String
            var help: String
        }
        struct Sample: Decodable {
            var name: String
            var labels: [String: String]
            var value: Double
        }
        var families: [String: Family]
        var samples: [Sample]

        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { $0.name == name && $0.labels == labels }?.value
        }
    }

    /// A Python 3 that has `prometheus_client` (Debian's python3-prometheus-client is for /usr/bin/python3; a
    /// pyenv `python3` earlier on PATH usually lacks it).
    static func python() throws -> URL {
        var candidates = ["/usr/bin/python3"]
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/python3")
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let probe = try ChildProcess.run(
                ["-c", "import prometheus_client"],
                executable: URL(fileURLWithPath: candidate)
            )
            if probe.status == 0 { return URL(fileURLWithPath: candidate) }
        }
        throw TimeoutFailure(
            description:
                "no python3 with prometheus_client (apt-get install python3-prometheus-client); tried \(candidates)"
        )
    }

    /// Parses `text` with prometheus_client's text-format parser (which rejects malformed input).
    static func parse(_ text: String) throws -> Parsed {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/parse-metrics.py")
        let output = try ChildProcess.run([script.path], executable: python(), stdin: Array(text.utf8))
        guard output.status == 0 else {
            throw TimeoutFailure(description: "prometheus_client rejected /metrics: \(output.stderr)\n\(text)")
        }
        return try JSONDecoder().decode(Parsed.self, from: Data(output.stdout.utf8))
    }

    @Test("every family has HELP and TYPE; configured series exist from the start; dead letters and build info")
    func exposition() throws {
        let hook = "#!/bin/sh\necho 'refused by the shop' >&2\nexit 1\n"
        let config = Fixture.basicConfig(
            extraSinks: """
                  hook:
                    exec: ["$DIR/hook.sh", "{reference}"]
                    max_attempts: 1
                """,
            routes: #"      - { events: ["*"], sinks: ["events", "hook"] }"#
        )
        let harness = try DaemonHarness(config: config, files: Fixture.hookFiles(hook))
        let version = try ChildProcess.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "vipps-webhookd ", with: "")

        // Before any traffic.
        let first = try Self.parse(try harness.get("/metrics").text)
        for (name, family) in first.families {
            #expect(!family.help.isEmpty, "no HELP for \(name)")
            #expect(!family.help.contains("not described yet"), "\(name) is missing from MetricHelp")
            #expect(family.type != "unknown", "no TYPE for \(name)")
        }
        #expect(first.families["vipps_webhookd_dedup_hits"] == nil, "one name per meaning: duplicates_total")
        #expect(first.families["vipps_webhookd_duplicates"]?.type == "counter")
        #expect(first.value("vipps_webhookd_build_info", ["version": version]) == 1)
        let endpoint = ["endpoint": "/vipps/epayment"]
        #expect(first.value("vipps_webhookd_http_requests_total", endpoint.merging(["status": "200"]) { $1 }) == 0)
        #expect(first.value("vipps_webhookd_http_requests_total", endpoint.merging(["status": "401"]) { $1 }) == 0)
        #expect(first.value("vipps_webhookd_unrouted_events_total", endpoint) == 0)
        for outcome in ["ok", "failed", "timeout", "spawn_error"] {
            #expect(first.value("vipps_webhookd_hook_runs_total", ["sink": "hook", "outcome": outcome]) == 0)
        }
        #expect(first.value("vipps_webhookd_sink_deliveries_total", ["sink": "events", "outcome": "ok"]) == 0)
        #expect(first.value("vipps_webhookd_dead_letters", ["sink": "hook"]) == 0)
        #expect(first.value("vipps_webhookd_dead_letters_total", ["sink": "hook"]) == 0)
        #expect(first.value("vipps_webhookd_journal_corrupt_records_total") == 0)
        #expect((first.value("vipps_webhookd_state_dir_free_bytes") ?? 0) > 0)
        #expect(
            (first.value("vipps_webhookd_state_dir_size_bytes") ?? 0) >= first.value(
                "vipps_webhookd_state_dir_free_bytes"
            ) ?? 0
        )

        // One event; its hook fails once and for all: a dead letter waits.
        #expect(try harness.send(Fixture.payment()).status == 200)
        var parsed = first
        try waitUntil("dead letter counted", log: harness.daemon.log) {
            parsed = try Self.parse(try harness.get("/metrics").text)
            return parsed.value("vipps_webhookd_dead_letters", ["sink": "hook"]) == 1
        }
        #expect(parsed.value("vipps_webhookd_hook_runs_total", ["sink": "hook", "outcome": "failed"]) == 1)
        #expect(parsed.value("vipps_webhookd_dead_letters_total", ["sink": "hook"]) == 1)

        // After a restart the gauge comes from the folder.
        _ = try harness.daemon.stop()
        try harness.daemon.restart()
        let restarted = try Self.parse(try harness.get("/metrics").text)
        #expect(restarted.value("vipps_webhookd_dead_letters", ["sink": "hook"]) == 1)
        #expect(restarted.value("vipps_webhookd_dead_letters_total", ["sink": "hook"]) == 0)

        // Fixed hook, retried dead letter: the gauge goes back to 0 once the letter is removed.
        try harness.directory.write("hook.sh", "#!/bin/sh\nexit 0\n", mode: 0o755)
        let retry = try ChildProcess.run(["dead-letters", "retry", "--config", harness.configFile, "--all"])
        #expect(retry.status == 0, "\(retry.stderr)")
        var drained = restarted
        try waitUntil("dead letter retried", timeout: 30, log: harness.daemon.log) {
            drained = try Self.parse(try harness.get("/metrics").text)
            return drained.value("vipps_webhookd_dead_letters", ["sink": "hook"]) == 0
        }
        #expect(drained.value("vipps_webhookd_hook_runs_total", ["sink": "hook", "outcome": "ok"]) == 1)
    }
}
