import Foundation
import TestSupport
import Testing

/// The bad-signature streak alert, with `VIPPS_WEBHOOKD_SIGNATURE_ALERT_SECONDS=1`.
@Suite("bad-signature streak")
struct SignatureStreakTests {
    static let alert =
        "bad signatures on fresh, well-formed deliveries for over 1 s: likely a registration whose secret is not "
        + "among this endpoint's secrets (secret not rotated, or a wrong secret file); each 401 holds back that "
        + "payment's later events at Vipps MobilePay for up to 7 days"

    static func streak(_ harness: DaemonHarness) throws -> Double? {
        try DaemonExecTests.metric(harness, "vipps_webhookd_signature_failure_streak", ["endpoint": "/vipps/epayment"])
    }

    @Test("fresh bad signatures beyond the alert time: one error and the gauge; a good one ends it with a notice")
    func streakAlert() throws {
        let harness = try DaemonHarness(environment: ["VIPPS_WEBHOOKD_SIGNATURE_ALERT_SECONDS": "1"])
        let body = Fixture.payment()

        // Stale bad signatures (replays, a skewed clock) do not count.
        let old = Date().addingTimeInterval(-3600)
        #expect(try harness.send(body, secret: Fixture.otherSecret, date: old).status == 401)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try harness.send(body, secret: Fixture.otherSecret, date: old).status == 401)
        // Nor does a bad content hash.
        let headers = try TestSigner.headers(
            secret: Fixture.otherSecret,
            url: "http://127.0.0.1:\(harness.port)/vipps/epayment",
            body: Array(body.utf8)
        )
        let tampered = Array((body + " ").utf8)
        let hashMismatch = try TestHTTPClient.post(
            port: harness.port,
            path: "/vipps/epayment",
            headers: headers,
            body: tampered
        )
        #expect(hashMismatch.status == 401)
        #expect(harness.daemon.logged(Self.alert).isEmpty)

        #expect(try harness.send(body, secret: Fixture.otherSecret).status == 401)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try harness.send(body, secret: Fixture.otherSecret).status == 401)
        try waitUntil("the streak error", log: harness.daemon.log) { !harness.daemon.logged(Self.alert).isEmpty }
        let error = try #require(harness.daemon.logged(Self.alert).first)
        #expect(error["level"] as? String == "error")
        #expect(error["endpoint"] as? String == "/vipps/epayment")
        #expect(try Self.streak(harness) == 1)
        #expect(try harness.send(body, secret: Fixture.otherSecret).status == 401)
        #expect(harness.daemon.logged(Self.alert).count == 1, "once per streak")

        #expect(try harness.send(body).status == 200)
        let notice = "good signature again: the bad-signature streak is over"
        try waitUntil("the notice", log: harness.daemon.log) { !harness.daemon.logged(notice).isEmpty }
        #expect(try Self.streak(harness) == 0)
        #expect(!harness.daemon.log.contains(Fixture.secret) && !harness.daemon.log.contains(Fixture.otherSecret))
        #expect(try harness.daemon.stop() == 0)
    }
}
