import Foundation
import TestSupport
import Testing

/// Reconciliation against a local fake of the access-token and ePayment APIs: events only in the vendor's log are
/// journaled and delivered once, marked `reconciliation`; a webhook that comes later is a duplicate; API errors
/// journal nothing and exit non-zero; the periodic mode finds a missing event by itself.
@Suite("reconciliation")
struct DaemonReconciliationTests {
    static let msn = "1234567"

    /// The daemon (file sink `events.jsonl`) with `vipps_api` pointing at `api`.
    static func harness(api: FakeEPaymentAPI, reconcileMinutes: Double = 0) throws -> DaemonHarness {
        try DaemonHarness(
            config: Fixture.basicConfig(extraTop: vippsAPI(api, reconcileMinutes: reconcileMinutes)),
            files: Fixture.secretFiles.merging(["vipps.env": FakeEPaymentAPI.credentials(msn: msn)]) { $1 }
        )
    }

    /// The `vipps_api` block (for `Fixture.basicConfig(extraTop:)`) pointing at `api`, credentials in
    /// `$DIR/vipps.env`, with no watchdog and reconciliation every `reconcileMinutes` (0: never).
    static func vippsAPI(_ api: FakeEPaymentAPI, reconcileMinutes: Double = 0) -> String {
        """
        vipps_api:
          base_url: "\(api.baseURL)"
          credentials_file: "$DIR/vipps.env"
          check_registrations_minutes: 0
          reconcile_minutes: \(reconcileMinutes)
        """
    }

    /// A configuration for `reconcile` with no daemon: the secret files, `vipps.env` and `config.yaml` (mode 0644)
    /// written to `dir`, `vipps_api` pointing at `api`; the configuration's path.
    static func configWithoutDaemon(in dir: TemporaryDirectory, api: FakeEPaymentAPI) throws -> String {
        try dir.write(files: Fixture.secretFiles.merging(["vipps.env": FakeEPaymentAPI.credentials(msn: msn)]) { $1 })
        let config = Fixture.basicConfig(extraTop: vippsAPI(api))
        return try dir.write("config.yaml", dir.expandingDIR(config), mode: 0o644)
    }

    /// An ePayment webhook body for `entry` of payment `reference`.
    static func webhook(_ reference: String, _ entry: FakeEPaymentAPI.Entry) -> String {
        #"{"msn":"\#(msn)","reference":"\#(reference)","pspReference":"\#(entry.pspReference)","name":"\#(entry.name)","#
            + #""amount":{"currency":"NOK","value":\#(entry.amount)},"timestamp":"\#(entry.timestamp)","#
            + #""idempotencyKey":"\#(UUID().uuidString)","success":\#(entry.success)}"#
    }

    static func reconcile(_ harness: DaemonHarness, _ arguments: [String] = []) throws -> ChildProcess.Output {
        try ChildProcess.run(["reconcile", "--config", harness.configFile] + arguments)
    }

    @Test(
        "events only in the vendor's log are delivered once, as reconciliation; again adds nothing; the late webhook is a duplicate"
    )
    func missingEventsAreAdded() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Self.harness(api: api)
        let reference = "order-\(UUID().uuidString.prefix(8))"
        let created = FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")
        let authorized = FakeEPaymentAPI.Entry(pspReference: "psp-authorized", name: "AUTHORIZED")
        let captured = FakeEPaymentAPI.Entry(pspReference: "psp-captured", name: "CAPTURED")
        api.setLog(reference, msn: Self.msn, [created, authorized, captured])
        #expect(try harness.send(Self.webhook(reference, created)).status == 200)
        try harness.waitForRecords("events.jsonl", count: 1)

        let first = try Self.reconcile(harness)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)\n\(harness.daemon.log)")
        #expect(first.stdout.contains("\(reference) (msn \(Self.msn)): 2 events added, 1 held"), "\(first.stdout)")
        let records = try harness.waitForRecords("events.jsonl", count: 3)
        let added = records.filter { $0["source"] as? String == "reconciliation" }
        #expect(
            added.map { $0["type"] as? String } == ["epayments.payment.authorized.v1", "epayments.payment.captured.v1"]
        )
        for record in added {
            let payload = record["payload"] as? [String: Any]
            #expect(payload?["msn"] as? String == Self.msn && payload?["reference"] as? String == reference)
            #expect(record["webhook_id"] == nil)
        }

        let second = try Self.reconcile(harness, ["--reference", reference])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("0 events added, 3 held"), "\(second.stdout)")

        // The real CAPTURED webhook arrives afterwards (another body: its own idempotencyKey): a duplicate.
        let late = try harness.send(Self.webhook(reference, captured))
        #expect(late.status == 200 && late.text.contains("duplicate"), "\(late.text)")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(harness.lines("events.jsonl").count == 3)
    }

    @Test("a payment whose log matches what was received changes nothing; a final payment is not asked about")
    func nothingMissing() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Self.harness(api: api)
        let open = "order-\(UUID().uuidString.prefix(8))"
        let done = "order-\(UUID().uuidString.prefix(8))"
        let authorized = FakeEPaymentAPI.Entry(pspReference: "psp-a", name: "AUTHORIZED")
        let aborted = FakeEPaymentAPI.Entry(pspReference: "psp-x", name: "ABORTED")
        api.setLog(open, msn: Self.msn, [authorized])
        api.setLog(done, msn: Self.msn, [aborted, FakeEPaymentAPI.Entry(pspReference: "psp-y", name: "CREATED")])
        #expect(try harness.send(Self.webhook(open, authorized)).status == 200)
        #expect(try harness.send(Self.webhook(done, aborted)).status == 200)
        try harness.waitForRecords("events.jsonl", count: 2)
        let out = try Self.reconcile(harness)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("1 unfinished payment seen"), "\(out.stdout)")
        #expect(out.stdout.contains("\(open) (msn \(Self.msn)): 0 events added, 1 held"), "\(out.stdout)")
        #expect(!out.stdout.contains(done))
        #expect(api.eventCalls == 1)
        #expect(harness.lines("events.jsonl").count == 2)
    }

    @Test("API errors journal nothing and exit non-zero with a clear line; an unknown payment is a 404 in words")
    func apiErrors() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Self.harness(api: api)
        let reference = "order-\(UUID().uuidString.prefix(8))"
        api.setLog(reference, msn: Self.msn, [FakeEPaymentAPI.Entry(pspReference: "psp-c", name: "CAPTURED")])
        api.fail(reference, status: 503)
        let failed = try Self.reconcile(harness, ["--reference", reference])
        #expect(failed.status != 0)
        #expect(failed.stdout.contains("\(reference) (msn \(Self.msn)): error: 503"), "\(failed.stdout)")
        #expect(failed.stdout.contains("1 error"), "\(failed.stdout)")
        #expect(api.eventCalls == 4, "503 is retried: 4 attempts in all")
        let unknown = try Self.reconcile(harness, ["--reference", "no-such-order-1"])
        #expect(unknown.status != 0)
        #expect(unknown.stdout.contains("404"), "\(unknown.stdout)")
        #expect(unknown.stdout.contains("knows no payment with this reference"), "\(unknown.stdout)")
        let badReference = try Self.reconcile(harness, ["--reference", "x/../y"])
        #expect(badReference.status != 0)
        #expect(badReference.stdout.contains("8 to 64 characters"), "\(badReference.stdout)")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(harness.lines("events.jsonl").isEmpty)
        #expect(harness.daemon.log.contains("reconciliation failed"))
    }

    @Test("the control socket is the daemon user's only (mode 0600) and goes away when the daemon stops")
    func controlSocketMode() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Self.harness(api: api)
        let socket = harness.stateDir + "/control.sock"
        var info = stat()
        #expect(stat(socket, &info) == 0)
        #expect(
            info.st_mode & 0o777 == 0o600 && info.st_mode & S_IFMT == S_IFSOCK,
            "mode \(String(info.st_mode, radix: 8))"
        )
        #expect(try harness.daemon.stop() == 0)
        #expect(stat(socket, &info) != 0)
    }

    @Test("log entries older than the dedup window or without a valid timestamp are skipped, never added")
    func tooOld() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Self.harness(api: api)
        let reference = "order-\(UUID().uuidString.prefix(8))"
        var old = FakeEPaymentAPI.Entry(pspReference: "psp-old", name: "AUTHORIZED")
        old.timestamp = FakeEPaymentAPI.timestamp(secondsAgo: 8 * 86400)
        var broken = FakeEPaymentAPI.Entry(pspReference: "psp-broken", name: "CAPTURED")
        broken.timestamp = "yesterday"
        api.setLog(reference, msn: Self.msn, [old, broken])
        let out = try Self.reconcile(harness, ["--reference", reference])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("0 events added, 0 held, 2 skipped"), "\(out.stdout)")
        #expect(out.stdout.contains("AUTHORIZED psp-old is older than the 7-day dedup window"), "\(out.stdout)")
        #expect(harness.lines("events.jsonl").isEmpty)
    }

    @Test("the periodic mode finds a missing event by itself within two intervals")
    func periodic() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Self.harness(api: api, reconcileMinutes: 0.02)  // 1.2 s
        let reference = "order-\(UUID().uuidString.prefix(8))"
        let created = FakeEPaymentAPI.Entry(pspReference: "psp-created", name: "CREATED")
        let authorized = FakeEPaymentAPI.Entry(pspReference: "psp-authorized", name: "AUTHORIZED")
        api.setLog(reference, msn: Self.msn, [created, authorized])
        #expect(try harness.send(Self.webhook(reference, created)).status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: 2, timeout: 20)
        #expect(records.last?["type"] as? String == "epayments.payment.authorized.v1")
        #expect(records.last?["source"] as? String == "reconciliation")
        let metrics = try harness.get("/metrics")
        #expect(metrics.text.contains("vipps_webhookd_reconcile_events_added_total 1"), "\(metrics.text)")
    }

    @Test("without a running daemon the command journals by itself; the daemon delivers at its next start")
    func withoutDaemon() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        let harness = try Self.harness(api: api)
        #expect(try harness.daemon.stop() == 0)
        let reference = "order-\(UUID().uuidString.prefix(8))"
        api.setLog(reference, msn: Self.msn, [FakeEPaymentAPI.Entry(pspReference: "psp-c", name: "CAPTURED")])
        let out = try Self.reconcile(harness, ["--reference", reference])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("1 event added"), "\(out.stdout)")
        #expect(out.stdout.contains("go to the sinks when it starts"), "\(out.stdout)")
        #expect(harness.lines("events.jsonl").isEmpty)
        try harness.daemon.restart()
        let records = try harness.waitForRecords("events.jsonl", count: 1)
        #expect(records.first?["source"] as? String == "reconciliation")
    }
}
