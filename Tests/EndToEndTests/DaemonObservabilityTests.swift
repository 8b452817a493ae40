import Foundation
import TestSupport
import Testing

/// `/healthz`, `/metrics` as Prometheus text after real traffic, and no secret in logs or metrics.
@Suite("daemon health and metrics")
struct DaemonObservabilityTests {
    @Test("/healthz 200; /metrics is well-formed Prometheus text with the daemon's counters; no secret leaks")
    func healthAndMetrics() throws {
        let hook = "#!/bin/sh\nexit 0\n"
        let inlineSecret = "inline-secret-\(UUID().uuidString)"
        let config = DaemonExecTests.config(exec: #"["$DIR/hook.sh"]"#).replacingOccurrences(
            of: "secret_file: \"$DIR/secret\"",
            with: "secrets: [\"$DIR/secret\", {env: E2E_ENV_SECRET}]"
        )
        let environmentSecret = "env-secret-\(UUID().uuidString)"
        let harness = try DaemonHarness(
            config: config,
            environment: ["E2E_ENV_SECRET": environmentSecret],
            files: Fixture.hookFiles(hook)
        )

        let health = try harness.get("/healthz")
        #expect(health.status == 200)

        // Traffic: accepted, duplicate, forged, stale, unknown path, wrong method.
        let body = Fixture.payment()
        #expect(try harness.send(body, webhookID: "m-1").status == 200)
        #expect(try harness.send(body, webhookID: "m-1").status == 200)
        #expect(try harness.send(Fixture.payment(), secret: environmentSecret).status == 200)
        #expect(try harness.send(Fixture.payment(), secret: inlineSecret).status == 401)
        #expect(try harness.send(Fixture.payment(), date: Date().addingTimeInterval(-3600)).status == 401)
        #expect(try harness.send(Fixture.payment(), path: "/nope").status == 404)
        #expect(try harness.get("/vipps/epayment").status == 405)
        try harness.waitForRecords("events.jsonl", count: 2)

        var exposition = PrometheusText()
        var metricsResponse: TestHTTPClient.Response?
        try waitUntil("hooks counted", log: harness.daemon.log) {
            metricsResponse = try harness.get("/metrics")
            exposition = PrometheusText.parse(metricsResponse?.text ?? "")
            return exposition.samples(named: "vipps_webhookd_hook_runs_total").reduce(0) { $0 + $1.value } >= 2
        }
        let response = try #require(metricsResponse)
        #expect(response.status == 200)
        #expect(response.header("content-type")?.hasPrefix("text/plain") == true)
        #expect(exposition.problems.isEmpty, "\(exposition.problems)")
        // Every sample belongs to a family with a TYPE line.
        for sample in exposition.samples {
            let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                exposition.types[name] == nil && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
            }
            #expect(exposition.types[family] != nil, "no TYPE for \(sample.name)")
        }

        func value(_ name: String, _ labels: [String: String]) -> Double? {
            exposition.samples.first { $0.name == name && $0.labels == labels }?.value
        }
        #expect(value("vipps_webhookd_http_requests_total", ["endpoint": "/vipps/epayment", "status": "200"]) == 3)
        #expect(value("vipps_webhookd_http_requests_total", ["endpoint": "/vipps/epayment", "status": "401"]) == 2)
        #expect(value("vipps_webhookd_http_requests_total", ["endpoint": "/vipps/epayment", "status": "405"]) == 1)
        #expect(value("vipps_webhookd_http_requests_total", ["endpoint": "unknown", "status": "404"]) == 1)
        let failures = exposition.samples(named: "vipps_webhookd_verification_failures_total")
        #expect(failures.reduce(0) { $0 + $1.value } == 2)
        #expect(failures.allSatisfy { $0.labels["reason"].map { !$0.isEmpty } ?? false })
        #expect(Set(failures.compactMap { $0.labels["reason"] }).count == 2, "\(failures)")
        #expect(exposition.types["vipps_webhookd_journal_fsync_seconds"] == "histogram")
        let fsyncCount = exposition.samples(named: "vipps_webhookd_journal_fsync_seconds_count").first?.value ?? 0
        #expect(fsyncCount >= 2)
        let infBucket = exposition.samples(named: "vipps_webhookd_journal_fsync_seconds_bucket").first {
            $0.labels["le"] == "+Inf"
        }
        #expect(infBucket?.value == fsyncCount)
        #expect(value("vipps_webhookd_hook_runs_total", ["sink": "hook", "outcome": "ok"]) == 2)
        #expect(value("vipps_webhookd_duplicates_total", [:]) == 1)

        // No secret value anywhere the operator looks.
        let log = harness.daemon.log
        for secret in [Fixture.secret, environmentSecret, inlineSecret] {
            #expect(!log.contains(secret))
            #expect(!response.text.contains(secret))
        }
        // Nor the signatures of the requests.
        #expect(!log.contains("HMAC-SHA256"))
    }
}
