import Foundation
import TestSupport
import Testing
import VippsWebhooks

/// Routing through the real daemon (globs, `where` filters, `unknown`, `*`) and `check-config` on a broken file.
@Suite("daemon routing and check-config")
struct DaemonRoutingTests {
    static let routes = """
              - { events: ["epayments.payment.*"], sinks: ["payments"] }
              - events: ["epayments.payment.captured.v1"]
                where: { success: true, msn: "123456" }
                sinks: ["captures"]
              - { events: ["unknown"], sinks: ["unknowns"] }
              - { events: ["*"], sinks: ["events"] }
        """

    static let sinks = """
          payments: { file: "$DIR/payments.jsonl" }
          captures: { file: "$DIR/captures.jsonl" }
          unknowns: { file: "$DIR/unknowns.jsonl" }
        """

    @Test("events reach exactly the file sinks whose routes match them")
    func routing() throws {
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(extraSinks: Self.sinks, routes: Self.routes),
            files: Fixture.secretFiles
        )
        let agreement = try #require(
            SampleEvents.body(
                for: "recurring.agreement-activated.v1",
                now: Int64(Date().timeIntervalSince1970 * 1000),
                randomBytes: { count in (0..<count).map { _ in UInt8.random(in: 0...255) } }
            )
        )
        let sent: [(id: String, body: String)] = [
            ("captured-ok", Fixture.payment("CAPTURED", msn: "123456", success: true)),
            ("captured-failed", Fixture.payment("CAPTURED", msn: "123456", success: false)),
            ("captured-other-msn", Fixture.payment("CAPTURED", msn: "654321", success: true)),
            ("authorized", Fixture.payment("AUTHORIZED")),
            ("unknown", #"{"hello":"world"}"#),
            ("agreement", String(decoding: agreement, as: UTF8.self)),
        ]
        for (id, body) in sent {
            let response = try harness.send(body, webhookID: id)
            #expect(response.status == 200, "\(id): \(response)")
        }
        try harness.waitForRecords("events.jsonl", count: sent.count)
        let expected: [String: [String]] = [
            "events.jsonl": sent.map(\.id),
            "payments.jsonl": ["captured-ok", "captured-failed", "captured-other-msn", "authorized"],
            "captures.jsonl": ["captured-ok"],
            "unknowns.jsonl": ["unknown"],
        ]
        for (file, ids) in expected {
            try harness.waitForRecords(file, count: ids.count)
        }
        // A last event, sent after all the others: once the sinks it goes to have it, whatever came before is written.
        #expect(try harness.send(Fixture.payment("CANCELLED"), webhookID: "fence").status == 200)
        try harness.waitForRecords("events.jsonl", count: sent.count + 1)
        try harness.waitForRecords("payments.jsonl", count: 5)
        for (file, ids) in expected {
            let got = harness.records(file).compactMap { $0["webhook_id"] as? String }.filter { $0 != "fence" }
            #expect(got == ids, "\(file)")
        }
        let types = Dictionary(
            uniqueKeysWithValues: harness.records("events.jsonl").compactMap { record in
                (record["webhook_id"] as? String).map { ($0, record["type"] as? String ?? "") }
            }
        )
        #expect(types["unknown"] == "unknown")
        #expect(types["agreement"] == "recurring.agreement-activated.v1")
        #expect(types["authorized"] == "epayments.payment.authorized.v1")
    }

    @Test("check-config: exit 0 and ok for a valid file; non-zero and one line per problem for a broken one")
    func checkConfig() throws {
        let dir = TemporaryDirectory()
        try dir.write("secret", Fixture.secret)
        let valid = try dir.write(
            "valid.yaml",
            Fixture.basicConfig().replacingOccurrences(of: "$DIR", with: dir.path)
        )
        let good = try ChildProcess.run(["check-config", "--config", valid])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("ok"))

        let broken = try dir.write(
            "broken.yaml",
            """
            listen: "127.0.0.1:99999"
            state_dir: "\(dir.path)/state"
            endpoints:
              - path: "/vipps/epayment"
                secret_file: "\(dir.path)/missing.secret"
                routes:
                  - { events: ["*"], sinks: ["nowhere"] }
            sinks:
              events: { file: "\(dir.path)/events.jsonl", max_attempts: 3 }
            """
        )
        let bad = try ChildProcess.run(["check-config", "--config", broken])
        #expect(bad.status != 0)
        let errors = bad.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 4, "\(bad.stderr)")
        let expectations: [(String, String)] = [
            ("broken.yaml:1: listen:", "port"),
            ("broken.yaml:5: endpoints[0].secret_file:", "missing.secret"),
            ("broken.yaml:7: endpoints[0].routes[0].sinks", "nowhere"),
            ("broken.yaml:9: sinks.events.max_attempts:", "exec sinks only"),
        ]
        for (location, words) in expectations {
            #expect(errors.contains { $0.contains(location) && $0.contains(words) }, "\(location): \(bad.stderr)")
        }
        // serve refuses the same file with the same lines and exit code 2, before listening.
        let serve = try ChildProcess.run(["serve", "--config", broken])
        #expect(serve.status == 2)
        #expect(serve.stderr.contains("missing.secret"))
        let missing = try ChildProcess.run(["check-config", "--config", dir.path + "/nothing.yaml"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("nothing.yaml"))
    }
}
