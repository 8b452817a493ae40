import Foundation
import TestSupport
import Testing

/// The daemon's registration watchdog against the fake API, with a check every 0.02 minutes (1.2 s).
@Suite("registration watchdog")
struct RegistrationWatchdogTests {
    static let url = RegistrationFixture.hookURL
    static let interval = 0.02 * 60
    /// How long a change may take to show: the next check (one interval), plus what a loaded machine (CI runs about
    /// eight test cases at once on two cores) adds to the API call and the metrics scrape. A check that never comes
    /// still fails it.
    static let shows = interval + 10

    static func metric(_ harness: DaemonHarness, _ name: String, _ labels: [String: String] = [:]) throws -> Double? {
        try DaemonExecTests.metric(harness, name, labels)
    }

    static func registrationOK(_ harness: DaemonHarness) throws -> Double? {
        try metric(harness, "vipps_webhookd_registration_ok", ["endpoint": "/vipps/epayment"])
    }

    static func records(_ harness: DaemonHarness, _ message: String, level: String) -> [[String: Any]] {
        harness.daemon.logged(message).filter { $0["level"] as? String == level }
    }

    @Test(
        "a registration deleted on the API turns registration_ok 0 with an error within one interval; back with a notice"
    )
    func deletedAndRecreated() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        fake.add(url: Self.url, events: [RegistrationFixture.captured], msn: WebhooksCommandTests.msn)
        let harness = try DaemonHarness(config: RegistrationFixture.config(fake), files: RegistrationFixture.files)
        try waitUntil("registration_ok is 1", log: harness.daemon.log) { try Self.registrationOK(harness) == 1 }
        try waitUntil("the first ok logged", log: harness.daemon.log) {
            harness.daemon.logged("webhook registration ok").count == 1
        }

        fake.removeAll(url: Self.url)
        try waitUntil("registration_ok is 0", timeout: Self.shows, log: harness.daemon.log) {
            try Self.registrationOK(harness) == 0
        }
        let message = "webhook registration missing: deliveries for this endpoint may not arrive"
        try waitUntil("the error line", log: harness.daemon.log) {
            !Self.records(harness, message, level: "error").isEmpty
        }
        let error = try #require(Self.records(harness, message, level: "error").first)
        #expect(error["endpoint"] as? String == "/vipps/epayment")
        #expect(error["detail"] as? String == "missing: no registration for hooks.example.com/vipps/epayment")

        // Still missing at the next checks: no second error line.
        Thread.sleep(forTimeInterval: Self.interval * 1.5)
        #expect(Self.records(harness, message, level: "error").count == 1)

        fake.add(url: Self.url, events: [RegistrationFixture.captured], msn: WebhooksCommandTests.msn)
        try waitUntil("registration_ok is 1 again", timeout: Self.shows, log: harness.daemon.log) {
            try Self.registrationOK(harness) == 1
        }
        try waitUntil("the notice", log: harness.daemon.log) {
            !Self.records(harness, "webhook registration ok again", level: "notice").isEmpty
        }
        let log = harness.daemon.log
        for secret in [FakeVippsAPI.clientSecret, FakeVippsAPI.subscriptionKey, "tok-"] {
            #expect(!log.contains(secret), "the log shows \(secret)")
        }
        #expect(try harness.daemon.stop() == 0)
    }

    @Test("API down: failures logged, counted and retried; ingest unaffected; checks resume when it is back")
    func apiDown() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        fake.add(url: Self.url, events: [RegistrationFixture.captured], msn: WebhooksCommandTests.msn)
        fake.setDown(true)
        let harness = try DaemonHarness(config: RegistrationFixture.config(fake), files: RegistrationFixture.files)
        #expect(try Self.registrationOK(harness) == 0, "present from the start, 0 until a check succeeds")
        let failures = "vipps_webhookd_registration_check_failures_total"
        try waitUntil("two failed checks counted", log: harness.daemon.log) {
            (try Self.metric(harness, failures, ["reason": "rejected"]) ?? 0) >= 2
        }
        let warning = "registration check failed: cannot list the webhook registrations"
        try waitUntil("the failure logged", log: harness.daemon.log) {
            !Self.records(harness, warning, level: "warning").isEmpty
        }
        let logged = try #require(Self.records(harness, warning, level: "warning").first)
        #expect((logged["error"] as? String)?.contains("503") == true)

        let response = try harness.send(Fixture.payment(), url: Self.url)
        #expect(response.status == 200, "\(response.text)")
        try harness.waitForRecords("events.jsonl", count: 1)

        fake.setDown(false)
        try waitUntil("registration_ok is 1", timeout: Self.shows, log: harness.daemon.log) {
            try Self.registrationOK(harness) == 1
        }
        #expect(try harness.daemon.stop() == 0)
    }

    @Test("SIGHUP: changed routes are checked at once; without vipps_api the gauge goes and the calls stop")
    func reload() throws {
        let fake = try FakeVippsAPI()
        defer { fake.stop() }
        fake.add(url: Self.url, events: [RegistrationFixture.captured], msn: WebhooksCommandTests.msn)
        let harness = try DaemonHarness(config: RegistrationFixture.config(fake), files: RegistrationFixture.files)
        try waitUntil("registration_ok is 1", log: harness.daemon.log) { try Self.registrationOK(harness) == 1 }

        try harness.reload(
            RegistrationFixture.config(fake, events: [RegistrationFixture.captured, RegistrationFixture.refunded])
        )
        let message = "webhook registration differs: deliveries for this endpoint may not arrive"
        try waitUntil("the differs error", timeout: Self.shows, log: harness.daemon.log) {
            !Self.records(harness, message, level: "error").isEmpty
        }
        #expect(try Self.registrationOK(harness) == 0)
        let error = try #require(Self.records(harness, message, level: "error").first)
        #expect(error["detail"] as? String == "differs: routed but not registered: \(RegistrationFixture.refunded)")

        try harness.reload(RegistrationFixture.config(fake, vippsAPI: false))
        try waitUntil("the gauge is gone", log: harness.daemon.log) { try Self.registrationOK(harness) == nil }
        let calls = fake.seen.count
        Thread.sleep(forTimeInterval: Self.interval * 2)
        #expect(fake.seen.count == calls, "no API call after vipps_api was removed")
        #expect(try harness.daemon.stop() == 0)
    }
}
