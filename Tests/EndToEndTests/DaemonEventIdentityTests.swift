import Foundation
import Synchronization
import TestSupport
import Testing
import VippsCrypto

/// Issue 13: the event id comes only from signed content (the body, or the ePayment business key inside it), dedup is
/// on that id across endpoints, and the unsigned `webhook-id` is kept for correlation but never skips an event.
@Suite("daemon event identity")
struct DaemonEventIdentityTests {
    /// A hook that appends its `VIPPS_EVENT_ID` to `$DIR/runs`.
    static let countingHook = """
        #!/bin/sh
        echo "$VIPPS_EVENT_ID" >> "$DIR/runs"
        """

    /// A file sink `events` and an exec sink `hook` (the counting hook), everything routed to both.
    static func config(extraEndpoints: String = "", secret: String = #"secret_file: "$DIR/secret""#) -> String {
        Fixture.basicConfig(
            secret: secret,
            extraEndpoints: extraEndpoints,
            extraSinks: """
                  hook:
                    exec: ["$DIR/hook.sh"]
                    timeout_seconds: 10
                    max_attempts: 3
                    concurrency: 1
                """,
            routes: #"      - { events: ["*"], sinks: ["events", "hook"] }"#
        )
    }

    /// Sends a last, unrelated event and waits until both sinks have it: whatever was accepted before it is then
    /// delivered too (one hook at a time, in order), so the counts that follow are final.
    static func fence(_ harness: DaemonHarness, lines: Int) throws {
        let fence = Fixture.payment()
        #expect(try harness.send(fence, webhookID: "fence").status == 200)
        try harness.waitForRecords("events.jsonl", count: lines)
        try waitUntil("fence hooked", log: harness.daemon.log) {
            harness.lines("runs").contains(ExpectedEventID.of(fence))
        }
    }

    @Test("one body signed and sent with eight different webhook-ids (and none) gives one line and one hook run")
    func manyWebhookIDs() throws {
        let harness = try DaemonHarness(config: Self.config(), files: Fixture.hookFiles(Self.countingHook))
        let body = Fixture.payment()
        for index in 0..<8 {
            let response = try harness.send(body, webhookID: "replay-\(index)-\(UUID().uuidString)")
            #expect(response.status == 200, "\(response)")
        }
        #expect(try harness.send(body).status == 200)
        try Self.fence(harness, lines: 2)
        let ids = harness.records("events.jsonl").compactMap { $0["id"] as? String }
        #expect(ids.count == 2 && ids.first == ExpectedEventID.of(body), "\(ids)")
        let firstWebhookID = harness.records("events.jsonl").first?["webhook_id"] as? String
        #expect(firstWebhookID?.hasPrefix("replay-0-") == true, "\(firstWebhookID ?? "nil")")
        #expect(harness.lines("runs") == [ExpectedEventID.of(body), ids.last ?? ""])
        #expect(try DaemonExecTests.metric(harness, "vipps_webhookd_duplicates_total", [:]) == 8)
    }

    @Test("the same body signed with each secret of one endpoint (rotation) gives one line and one hook run")
    func rotation() throws {
        let secrets = #"secrets: ["$DIR/secret", "$DIR/next-secret"]"#
        var files = Fixture.hookFiles(Self.countingHook)
        files["next-secret"] = Fixture.otherSecret + "\n"
        let harness = try DaemonHarness(config: Self.config(secret: secrets), files: files)
        let body = Fixture.payment()
        #expect(try harness.send(body, secret: Fixture.secret, webhookID: "old-registration").status == 200)
        #expect(try harness.send(body, secret: Fixture.otherSecret, webhookID: "new-registration").status == 200)
        try Self.fence(harness, lines: 2)
        #expect(
            harness.records("events.jsonl").compactMap { $0["webhook_id"] as? String }
                == ["old-registration", "fence"]
        )
        #expect(harness.lines("runs").filter { $0 == ExpectedEventID.of(body) }.count == 1)
    }

    @Test(
        "two endpoints receiving the same body give one line and one hook run; different bodies sharing a webhook-id on either endpoint are all stored and delivered"
    )
    func acrossEndpoints() throws {
        let other = """
              - path: "/vipps/other"
                secret_file: "$DIR/other-secret"
                routes:
                  - { events: ["*"], sinks: ["events", "hook"] }
            """
        var files = Fixture.hookFiles(Self.countingHook)
        files["other-secret"] = Fixture.otherSecret + "\n"
        let harness = try DaemonHarness(config: Self.config(extraEndpoints: other), files: files)
        let shared = Fixture.payment()
        #expect(try harness.send(shared, webhookID: "wh-a").status == 200)
        #expect(
            try harness.send(shared, path: "/vipps/other", secret: Fixture.otherSecret, webhookID: "wh-b").status
                == 200
        )
        // Authentic, different events that reuse an already seen webhook-id: stored, not "duplicate".
        let second = Fixture.payment()
        let third = Fixture.payment()
        let answer = try harness.send(second, webhookID: "wh-a")
        #expect(answer.status == 200 && answer.text.contains("stored"), "\(answer)")
        #expect(
            try harness.send(third, path: "/vipps/other", secret: Fixture.otherSecret, webhookID: "wh-a").status
                == 200
        )
        try Self.fence(harness, lines: 4)
        let records = harness.records("events.jsonl")
        let expected = [shared, second, third].map(ExpectedEventID.of)
        #expect(Array(records.compactMap { $0["id"] as? String }.prefix(3)) == expected)
        #expect(
            Array(records.compactMap { $0["endpoint"] as? String }.prefix(3))
                == ["/vipps/epayment", "/vipps/epayment", "/vipps/other"]
        )
        #expect(Array(harness.lines("runs").prefix(3)) == expected)
        #expect(harness.lines("runs").count == 4)
    }

    @Test("two ePayment bodies differing only in key order and whitespace are one event; another name is another")
    func businessKey() throws {
        let harness = try DaemonHarness(config: Self.config(), files: Fixture.hookFiles(Self.countingHook))
        let psp = UUID().uuidString
        let compact =
            #"{"msn":"123456","reference":"order-77","pspReference":"\#(psp)","name":"CAPTURED","#
            + #""amount":{"currency":"NOK","value":100},"timestamp":"2024-01-02T03:04:05.678Z","success":true}"#
        let reordered = """
            {
              "name" : "CAPTURED", "success": true,
              "amount": { "value": 100, "currency": "NOK" },
              "pspReference": "\(psp)", "reference": "order-\\u0037\\u0037", "msn": "123456",
              "timestamp": "2024-01-02T03:04:05.678Z"
            }
            """
        let refunded = compact.replacingOccurrences(of: "CAPTURED", with: "REFUNDED")
        #expect(ExpectedEventID.of(compact) == ExpectedEventID.of(reordered))
        #expect(try harness.send(compact, webhookID: "first").status == 200)
        #expect(try harness.send(reordered, webhookID: "second").status == 200)
        #expect(try harness.send(refunded, webhookID: "third").status == 200)
        // Not an ePayment event: the body hash, so whitespace makes another event.
        let unknown = #"{"hello":"world"}"#
        #expect(try harness.send(unknown).status == 200)
        #expect(try harness.send(#"{ "hello": "world" }"#).status == 200)
        try Self.fence(harness, lines: 5)
        let ids = harness.records("events.jsonl").compactMap { $0["id"] as? String }
        #expect(
            Array(ids.prefix(4)) == [
                ExpectedEventID.ofPayment(msn: "123456", reference: "order-77", pspReference: psp, name: "CAPTURED"),
                ExpectedEventID.ofPayment(msn: "123456", reference: "order-77", pspReference: psp, name: "REFUNDED"),
                ExpectedEventID.of(unknown), ExpectedEventID.of(#"{ "hello": "world" }"#),
            ]
        )
        #expect(harness.lines("runs").count == 5)
    }

    @Test("every 401 has the same body, whatever the reason; the reason is only in the log")
    func uniform401() throws {
        let harness = try DaemonHarness()
        let body = Array(Fixture.payment().utf8)
        let url = "http://127.0.0.1:\(harness.port)/vipps/epayment"
        func signed(_ secret: String = Fixture.secret, at date: Date = Date()) throws -> [(String, String)] {
            try TestSigner.headers(secret: secret, url: url, body: body, date: date)
        }
        func post(_ headers: [(String, String)], _ payload: [UInt8] = body) throws -> TestHTTPClient.Response {
            try TestHTTPClient.post(port: harness.port, path: "/vipps/epayment", headers: headers, body: payload)
        }
        let good = try signed()
        var flipped = body
        flipped[10] ^= 0x01
        let answers: [(String, TestHTTPClient.Response)] = [
            ("stale", try post(try signed(at: Date().addingTimeInterval(-3600)))),
            ("future", try post(try signed(at: Date().addingTimeInterval(400)))),
            ("bad signature", try post(try signed(Fixture.otherSecret))),
            ("bad content hash", try post(good, flipped)),
            ("missing headers", try post([("Content-Type", "application/json")])),
            ("malformed authorization", try post(good.filter { $0.0 != "Authorization" } + [("Authorization", "x")])),
        ]
        for (name, answer) in answers {
            #expect(answer.status == 401, "\(name): \(answer)")
            #expect(answer.body == answers[0].1.body, "\(name): \(answer.text)")
        }
        #expect(answers[0].1.text == "not authentic\n")
        let log = harness.daemon.log
        #expect(log.contains("outside the allowed window"))
        #expect(log.contains("x-ms-content-sha256 does not match the body"))
        #expect(log.contains("signature does not match any secret"))
        #expect(log.contains("missing header"))
    }

    @Test(
        "refused requests are logged truncated and rate-limited, with a count of what was suppressed; metrics count every one"
    )
    func refusalLogging() throws {
        let harness = try DaemonHarness()
        let longPath = "/" + String(repeating: "p", count: 15_000)
        func refused() -> [[String: Any]] { harness.daemon.logRecords.filter { ($0["status"] as? Int) == 404 } }
        func suppressed() -> Int {
            harness.daemon.logged("log lines suppressed (rate limit)")
                .compactMap { ($0["lines"] as? String).flatMap(Int.init) }.reduce(0, +)
        }
        // Past the limit (20 lines a second): rounds of 60 refusals from 4 threads until some are suppressed, as a
        // loaded machine (a full test run) may send one round slower than that.
        let answers = Mutex<[Int]>([])
        nonisolated(unsafe) let sender = harness  // only `send`, which reads the port (and the log on a failure)
        var count = 0
        while count < 1800, suppressed() == 0 {
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                for _ in 0..<15 {
                    let status = (try? sender.send(Fixture.payment(), path: longPath).status) ?? 0
                    answers.withLock { $0.append(status) }
                }
            }
            count += 60
            _ = eventually(1.5) { suppressed() > 0 }  // reported once its second is over
        }
        #expect(answers.withLock { $0 } == Array(repeating: 404, count: count))
        // Every refusal is either logged or counted in a "suppressed" line.
        try waitUntil("every refusal logged or counted", timeout: 15, log: harness.daemon.log) {
            refused().count + suppressed() == count
        }
        #expect(refused().count < count && suppressed() > 0, "\(refused().count) logged, \(suppressed()) suppressed")
        let longest = refused().compactMap { ($0["endpoint"] as? String)?.utf8.count }.max() ?? 0
        #expect(longest < 260, "path echoed with \(longest) bytes")
        // Bounded per line: a round that did not reach the limit logs all of its 60 refusals.
        #expect(harness.daemon.log.utf8.count < 200_000 + refused().count * 600)
        let metric = try DaemonExecTests.metric(
            harness,
            "vipps_webhookd_http_requests_total",
            ["endpoint": "unknown", "status": "404"]
        )
        #expect(metric == Double(count))
    }

    @Test("an endpoint without public_url is named in a start-up warning; one with it is not")
    func publicURLWarning() throws {
        let other = """
              - path: "/vipps/pinned"
                public_url: "https://hooks.example.com/vipps/pinned"
                secret_file: "$DIR/secret"
                routes:
                  - { events: ["*"], sinks: ["events"] }
            """
        let harness = try DaemonHarness(config: Fixture.basicConfig(extraEndpoints: other))
        #expect(try harness.send(Fixture.payment()).status == 200)
        let warnings = harness.daemon.log.split(separator: "\n").filter { $0.contains("no public_url") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("/vipps/epayment") == true)
        // A reload warns again, for each endpoint that has none now.
        try harness.reload(Fixture.basicConfig(extraEndpoints: other.replacingOccurrences(of: "public_url", with: "#")))
        let afterReload = harness.daemon.log.split(separator: "\n").filter { $0.contains("no public_url") }
        #expect(afterReload.count == 3, "\(afterReload)")
        #expect(afterReload.last?.contains("/vipps/pinned") == true)
    }
}
