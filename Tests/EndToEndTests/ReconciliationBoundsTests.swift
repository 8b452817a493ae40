import Foundation
import Glibc
import TestSupport
import Testing

/// Reconciliation's bounds and routing: the rate of API calls when they fail, the size of a payment's output line, the
/// endpoint a known payment's events are routed through.
@Suite("reconciliation: bounds and routing")
struct ReconciliationBoundsTests {
    typealias Base = DaemonReconciliationTests

    @Test("periodic mode: at most 60 event-log calls a minute even when the API answers 401 (token refetch + retry)")
    func periodicRateWith401() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Base.harness(api: api, reconcileMinutes: 0.05)  // 3 s rounds: 3 payments a round
        for number in 0..<3 {
            let reference = "order-\(number)-\(UUID().uuidString.prefix(8))"
            let created = FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")
            api.setLog(reference, msn: Base.msn, [created])
            api.fail(reference, status: 401)
            #expect(try harness.send(Base.webhook(reference, created)).status == 200)
        }
        try #require(eventually(10, every: 0.005) { api.eventCalls > 0 }, "no periodic check within 10 s")
        Thread.sleep(forTimeInterval: 2.5)
        // Paced by requests: a payment whose call got 401 sent 4 (token, call, token, call), so the next waits 4 s.
        let early = api.eventCalls(withinFirst: .milliseconds(2_500))
        #expect(early <= 3, "\(early) event-log calls within 2.5 s of the first")
    }

    @Test("a log answer with many malformed entries does not make `reconcile` lose the daemon's answer")
    func manySkippedEntries() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Base.harness(api: api)
        let hostile = "order-hostile-\(UUID().uuidString.prefix(8))"
        let healthy = "order-healthy-\(UUID().uuidString.prefix(8))"
        // 4,000 entries of a name the daemon does not know: about 2 MB of answer, under the 4 MiB bound.
        let unknownName = String(repeating: "Z", count: 300)
        api.setLog(
            hostile,
            msn: Base.msn,
            (0..<4000).map { FakeEPaymentAPI.Entry(pspReference: "psp-\($0)", name: unknownName) }
        )
        api.setLog(healthy, msn: Base.msn, [FakeEPaymentAPI.Entry(pspReference: "psp-h", name: "AUTHORIZED")])
        let out = try Base.reconcile(harness, ["--reference", hostile, "--reference", healthy])
        #expect(out.stdout.contains("\(healthy) (msn \(Base.msn)): 1 event added"), "stdout: \(out.stdout.suffix(300))")
        #expect(out.stdout.contains("total: 2 payments"), "stderr: \(out.stderr)")
        #expect(out.status == 0, "stderr: \(out.stderr)")
    }

    @Test("--endpoint (for references the daemon never saw) does not reroute a payment the daemon saw elsewhere")
    func endpointOptionKeepsKnownPaymentsEndpoint() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(
                extraTop: DaemonReconciliationTests.vippsAPI(api),
                extraEndpoints: Fixture.endpoint("/vipps/other", secretFile: "other-secret", sink: "other"),
                extraSinks: "  other:\n    file: \"$DIR/other.jsonl\""
            ),
            files: Fixture.secretFiles.merging([
                "vipps.env": FakeEPaymentAPI.credentials(msn: Base.msn), "other-secret": Fixture.otherSecret + "\n",
            ]) { $1 }
        )
        let seen = "order-seen-\(UUID().uuidString.prefix(8))"
        let unseen = "order-unseen-\(UUID().uuidString.prefix(8))"
        let created = FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")
        let authorized = FakeEPaymentAPI.Entry(pspReference: "psp-authorized", name: "AUTHORIZED")
        api.setLog(seen, msn: Base.msn, [created, authorized])
        api.setLog(unseen, msn: Base.msn, [FakeEPaymentAPI.Entry(pspReference: "psp-u", name: "CREATED")])
        // The seen payment's events come in on /vipps/epayment (sink events.jsonl).
        #expect(try harness.send(Base.webhook(seen, created)).status == 200)
        try harness.waitForRecords("events.jsonl", count: 1)
        // The operator reconciles it together with a payment of the other shop the daemon never saw.
        let out = try Base.reconcile(
            harness,
            ["--reference", seen, "--reference", unseen, "--endpoint", "/vipps/other"]
        )
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        func types() -> [String] { harness.records("events.jsonl").compactMap { $0["type"] as? String } }
        // The file sink writes it a moment after the answer: waited for, not slept on.
        _ = eventually(15) { types().contains("epayments.payment.authorized.v1") }
        #expect(
            types().contains("epayments.payment.authorized.v1"),
            "the seen payment's AUTHORIZED went to /vipps/other's sinks: \(harness.lines("other.jsonl"))"
        )
    }
}
