import Foundation
import Glibc
import TestSupport
import Testing

@testable import WebhookDaemon

/// README: `vipps_webhookd_registration_ok{endpoint}` is there "for every endpoint from the start". The daemon sends
/// READY=1, then starts the watchdog with `apply` and logs `listening`; `apply` creates the gauges later, on the
/// watchdog's own queue, so a scrape that comes first (a test right after start, Prometheus right after READY=1)
/// finds no gauge (found by a review helper; `apply` now makes the gauges before it returns).
@Suite("registration gauge at start")
struct RegistrationGaugeAtStartTests {
    @Test("once apply returns, the gauge of every endpoint exists (0 until a check succeeds), a check in flight or not")
    func gaugeExistsWhenApplyReturns() throws {
        let folder = TemporaryDirectory(prefix: "vipps-gauge-at-start")
        defer { folder.remove() }
        try folder.write("secret", "s3cret-one\n", mode: 0o600)
        try folder.write("vipps.env", VippsAPIConfigurationTests.credentials, mode: 0o600)
        // An API that takes connections and never answers: the first check holds the watchdog's queue.
        let (silent, port) = try loopbackSocket()
        defer { close(silent) }
        let first = "/vipps/gauge-at-start-\(UUID().uuidString.prefix(8))"
        let second = first + "-added"
        func configuration(_ paths: [String]) throws -> DaemonConfiguration {
            let endpoints = paths.map { path in
                """
                  - path: "\(path)"
                    public_url: "https://hooks.example.com\(path)"
                    secret_file: "\(folder.path)/secret"
                    routes: [{ events: ["*"], sinks: ["journal"] }]
                """
            }
            let yaml = """
                endpoints:
                \(endpoints.joined(separator: "\n"))
                sinks:
                  journal: { file: "\(folder.path)/events.jsonl" }
                vipps_api:
                  base_url: "http://127.0.0.1:\(port)"
                  credentials_file: "\(folder.path)/vipps.env"
                  check_registrations_minutes: 60
                """
            let loaded = ConfigurationLoader(secretResolver: SecretResolver(environment: [:]))
                .load(yaml: yaml, file: "test.yaml")
            return try #require(loaded.configuration, "\(loaded.problems.map(\.description))")
        }
        let metrics = DaemonMetrics.bootstrap()
        let watchdog = RegistrationWatchdog(logger: testLogger, metrics: metrics)
        defer { watchdog.stop() }
        func exposed(_ path: String) -> Bool {
            String(decoding: metrics.exposition(), as: UTF8.self)
                .contains("vipps_webhookd_registration_ok{endpoint=\"\(path)\"} 0")
        }
        // At start (READY=1 comes next), then a reload that adds an endpoint while the first check still waits.
        watchdog.apply(try configuration([first]))
        #expect(exposed(first), "no vipps_webhookd_registration_ok for \(first) right after apply")
        watchdog.apply(try configuration([first, second]))
        #expect(exposed(second), "no vipps_webhookd_registration_ok for \(second) right after the reload's apply")
    }
}
