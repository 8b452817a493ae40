import Foundation
import Synchronization
import TestSupport
import Testing
import VippsCrypto

/// Issue 4: what the real daemon answers to signed, forged and malformed deliveries, and what it writes.
@Suite("daemon ingest")
struct DaemonIngestTests {
    @Test(
        "an authentic event is answered 200 and written once with id, type, endpoint, received_at, source, webhook_id and payload"
    )
    func accepted() throws {
        let harness = try DaemonHarness()
        let body = Fixture.payment("CAPTURED")
        let response = try harness.send(body, webhookID: "wh-accepted-1")
        #expect(response.status == 200, "\(response)")
        let records = try harness.waitForRecords("events.jsonl", count: 1)
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record["id"] as? String == ExpectedEventID.of(body))
        #expect(record["webhook_id"] as? String == "wh-accepted-1")
        #expect(record["source"] as? String == "webhook")
        #expect(record["type"] as? String == "epayments.payment.captured.v1")
        #expect(record["endpoint"] as? String == "/vipps/epayment")
        let receivedAt = try #require(record["received_at"] as? String)
        #expect(receivedAt.hasSuffix("Z"))
        #expect(
            ISO8601DateFormatter.withFractions.date(from: receivedAt) ?? ISO8601DateFormatter().date(from: receivedAt)
                != nil
        )
        #expect(Self.rawPayload(harness.lines("events.jsonl")[0]) == body)
    }

    @Test("forged, stale or incomplete deliveries are answered 401 and nothing is written")
    func rejected() throws {
        let harness = try DaemonHarness()
        let body = Fixture.payment()
        let bytes = Array(body.utf8)
        let url = "http://127.0.0.1:\(harness.port)/vipps/epayment"
        /// The headers of `bytes` signed with `secret` for `target` at `date`.
        func signed(_ secret: String, for target: String, at date: Date = Date()) throws -> [(String, String)] {
            try TestSigner.headers(secret: secret, url: target, body: bytes, date: date)
        }
        let good = try signed(Fixture.secret, for: url)

        func post(_ headers: [(String, String)], _ payload: [UInt8] = bytes) throws -> TestHTTPClient.Response {
            try TestHTTPClient.post(port: harness.port, path: "/vipps/epayment", headers: headers, body: payload)
        }
        func without(_ name: String) -> [(String, String)] { good.filter { $0.0.lowercased() != name } }
        func replacing(_ name: String, _ value: String) -> [(String, String)] {
            without(name) + [(name, value)]
        }

        var tampered = bytes
        tampered[tampered.count - 2] = UInt8(ascii: "x")
        let cases: [(String, TestHTTPClient.Response)] = [
            ("tampered body", try post(good, tampered)),
            ("wrong secret", try post(try signed(Fixture.otherSecret, for: url))),
            ("stale date", try post(try signed(Fixture.secret, for: url, at: Date().addingTimeInterval(-301 - 5)))),
            ("future date", try post(try signed(Fixture.secret, for: url, at: Date().addingTimeInterval(301 + 5)))),
            ("signed for another path", try post(try signed(Fixture.secret, for: url + "x"))),
            ("missing x-ms-date", try post(without("x-ms-date"))),
            ("missing x-ms-content-sha256", try post(without("x-ms-content-sha256"))),
            ("missing authorization", try post(without("authorization"))),
            ("malformed authorization", try post(replacing("authorization", "Bearer abc"))),
            (
                "authorization without signature",
                try post(
                    replacing(
                        "authorization",
                        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
                    )
                )
            ),
            ("malformed date", try post(replacing("x-ms-date", "yesterday"))),
        ]
        for (name, response) in cases {
            #expect(response.status == 401, "\(name): \(response)")
        }
        // The good one goes through afterwards, so the file sink is working: nothing from the forged ones is in it.
        #expect(try post(good).status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: 1)
        #expect(records.count == 1)
        #expect(!harness.daemon.log.contains(Fixture.secret))
    }

    @Test("a redelivery with a new signature is answered 200 and not written again, whatever its webhook-id")
    func duplicateRedelivery() throws {
        let harness = try DaemonHarness()
        let body = Fixture.payment()
        #expect(try harness.send(body, webhookID: "wh-dup").status == 200)
        let again = try harness.send(body, webhookID: "wh-dup", date: Date().addingTimeInterval(-2))
        #expect(again.status == 200, "\(again)")
        #expect(again.text.contains("duplicate"), "\(again)")
        // The webhook-id is not signed: another one on the same body is the same event.
        #expect(try harness.send(body, webhookID: "wh-dup-2").status == 200)
        // Give a wrongly repeated write the time to show up before the final count.
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-dup-3").status == 200)
        let records = try harness.waitForRecords("events.jsonl", count: 2)
        #expect(records.compactMap { $0["webhook_id"] as? String } == ["wh-dup", "wh-dup-3"])
        #expect(harness.lines("events.jsonl").count == 2)
    }

    @Test("without webhook-id the body hash is the id and dedups redeliveries")
    func duplicateByBodyHash() throws {
        let harness = try DaemonHarness()
        let body = Fixture.payment()
        #expect(try harness.send(body).status == 200)
        #expect(try harness.send(body, date: Date().addingTimeInterval(-1)).status == 200)
        #expect(try harness.send(Fixture.payment()).status == 200)
        try harness.waitForRecords("events.jsonl", count: 2)
        let records = harness.records("events.jsonl")
        #expect(records.count == 2)
        #expect(records.first?["id"] as? String == ExpectedEventID.of(body))
        #expect(records.first?["webhook_id"] == nil)
    }

    @Test("unknown path 404, GET on an endpoint 405 with Allow: POST")
    func pathsAndMethods() throws {
        let harness = try DaemonHarness()
        let unknown = try harness.send(Fixture.payment(), path: "/vipps/nothing-here")
        #expect(unknown.status == 404)
        let get = try harness.get("/vipps/epayment")
        #expect(get.status == 405)
        #expect(get.header("allow") == "POST")
        #expect(harness.lines("events.jsonl").isEmpty)
    }

    @Test("a body over max_body_bytes is answered 413 from Content-Length, before any body byte is sent")
    func bodyTooLarge() throws {
        let harness = try DaemonHarness()
        let head =
            "POST /vipps/epayment HTTP/1.1\r\nHost: 127.0.0.1:\(harness.port)\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        let response = try TestHTTPClient.exchange(port: harness.port, bytes: Array(head.utf8))
        #expect(response.status == 413, "\(response)")
        // Just over the limit (4096) with a full signed body is refused too; exactly at the limit is not.
        let padding = String(repeating: " ", count: 4096 - Fixture.payment().utf8.count)
        let atLimit = Fixture.payment() + padding
        #expect(atLimit.utf8.count == 4096)
        #expect(try harness.send(atLimit).status == 200)
        #expect(try harness.send(atLimit + " ").status == 413)
    }

    @Test("behind a proxy: signed for public_url, received on 127.0.0.1 with its own Host → 200")
    func behindProxy() throws {
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(extraTop: "public_url: \"https://hooks.example.com\"")
        )
        let body = Fixture.payment()
        let viaProxy = try harness.send(body, url: "https://hooks.example.com/vipps/epayment")
        #expect(viaProxy.status == 200, "\(viaProxy)")
        // Signed for the local address instead: not what the vendor signs, so refused.
        let direct = try harness.send(Fixture.payment())
        #expect(direct.status == 401, "\(direct)")
        try harness.waitForRecords("events.jsonl", count: 1)
    }

    @Test("without public_url the request's own Host and target are what is signed")
    func ownHost() throws {
        let harness = try DaemonHarness()
        let response = try harness.send(Fixture.payment(), url: "http://127.0.0.1:\(harness.port)/vipps/epayment")
        #expect(response.status == 200, "\(response)")
        let other = try harness.send(Fixture.payment(), url: "https://hooks.example.com/vipps/epayment")
        #expect(other.status == 401)
    }

    @Test("secret rotation: either of two secrets verifies, a third does not")
    func rotation() throws {
        let harness = try DaemonHarness(
            config: Fixture.basicConfig(secret: #"secrets: ["$DIR/secret", "$DIR/next.secret"]"#),
            files: ["secret": Fixture.secret + "\n", "next.secret": Fixture.otherSecret]
        )
        #expect(try harness.send(Fixture.payment(), secret: Fixture.secret).status == 200)
        #expect(try harness.send(Fixture.payment(), secret: Fixture.otherSecret).status == 200)
        #expect(try harness.send(Fixture.payment(), secret: "third-secret").status == 401)
        try harness.waitForRecords("events.jsonl", count: 2)
    }

    @Test(
        "an authentic body that is not JSON or of no known type is kept with type unknown",
        arguments: [
            "this is not json", #"{"eventType":"something.new.v9","id":1}"#, "[1,2,3]",
        ]
    )
    func unknownType(body: String) throws {
        let harness = try DaemonHarness()
        let response = try harness.send(body)
        #expect(response.status == 200, "\(response)")
        let record = try #require(try harness.waitForRecords("events.jsonl", count: 1).first)
        #expect(record["type"] as? String == "unknown")
        #expect(record["id"] as? String == Self.sha256Hex(body))
    }

    @Test("the same delivery sent concurrently is written once; every copy is answered 200")
    func concurrentDuplicates() throws {
        let harness = try DaemonHarness()
        let body = Array(Fixture.payment().utf8)
        let port = harness.port
        let statuses = StatusList()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let headers = try? TestSigner.headers(
                secret: Fixture.secret,
                url: "http://127.0.0.1:\(port)/vipps/epayment",
                body: body,
                webhookID: "wh-race"
            )
            let response = try? TestHTTPClient.post(
                port: port,
                path: "/vipps/epayment",
                headers: headers ?? [],
                body: body
            )
            statuses.append(response?.status ?? -1)
        }
        #expect(statuses.values == Array(repeating: 200, count: 8))
        #expect(try harness.send(Fixture.payment(), webhookID: "wh-fence").status == 200)
        try waitUntil("fence written", log: harness.daemon.log) {
            harness.lines("events.jsonl").contains { $0.contains("wh-fence") }
        }
        let ids = harness.records("events.jsonl").compactMap { $0["webhook_id"] as? String }
        #expect(ids.sorted() == ["wh-fence", "wh-race"], "\(ids)")
    }

    @Test("an endpoint's own public_url (with a query) is what is signed")
    func endpointPublicURL() throws {
        let config = Fixture.basicConfig(extraTop: "public_url: \"https://hooks.example.com\"").replacingOccurrences(
            of: "    secret_file:",
            with: "    public_url: \"https://Shop.Example.com:443/api/vipps?x=1\"\n    secret_file:"
        )
        let harness = try DaemonHarness(config: config)
        let signed = try harness.send(Fixture.payment(), url: "https://shop.example.com/api/vipps?x=1")
        #expect(signed.status == 200, "\(signed)")
        let global = try harness.send(Fixture.payment(), url: "https://hooks.example.com/vipps/epayment")
        #expect(global.status == 401)
    }

    @Test("malformed HTTP is answered 400; an unusable webhook-id is not kept and changes nothing")
    func malformed() throws {
        let harness = try DaemonHarness()
        let garbage = try TestHTTPClient.exchange(port: harness.port, bytes: Array("NOT HTTP AT ALL\r\n\r\n".utf8))
        #expect(garbage.status == 400)
        let badLength = try TestHTTPClient.exchange(
            port: harness.port,
            bytes: Array(
                "POST /vipps/epayment HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".utf8
            )
        )
        #expect(badLength.status == 400)
        let body = Fixture.payment()
        #expect(try harness.send(body, webhookID: String(repeating: "a", count: 500)).status == 200)
        let record = try #require(try harness.waitForRecords("events.jsonl", count: 1).first)
        #expect(record["id"] as? String == ExpectedEventID.of(body))
        #expect(record["webhook_id"] == nil)
    }

    // MARK: - Helpers

    /// The raw text of the `payload` member of a file-sink line (the last member, as the sink writes it).
    static func rawPayload(_ line: String) -> String? {
        guard let start = line.range(of: "\"payload\":") else { return nil }
        var rest = line[start.upperBound...]
        while rest.first == " " { rest.removeFirst() }
        guard rest.hasSuffix("}") else { return nil }
        return String(rest.dropLast())
    }

    static func sha256Hex(_ text: String) -> String {
        Digest.hex(Digest.sha256(Array(text.utf8)))
    }
}

extension ISO8601DateFormatter {
    /// RFC 3339 with fractional seconds.
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

/// Statuses collected from concurrent requests.
private final class StatusList: Sendable {
    private let list = Mutex<[Int]>([])

    func append(_ status: Int) {
        list.withLock { $0.append(status) }
    }

    var values: [Int] {
        list.withLock { $0 }
    }
}
