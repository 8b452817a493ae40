import Synchronization
import Testing
import VippsWebhooks

@testable import VippsAPI

/// The session against a scripted transport: tokens reused and fetched anew before they expire, 429/5xx retried
/// with backoff and Retry-After, a revoked token replaced once, nothing secret in errors.
@Suite("vendor API session")
struct VippsAPISessionTests {
    final class Script: ManagementTransport, @unchecked Sendable {
        let answers = Mutex<[ManagementResponse]>([])
        let requests = Mutex<[ManagementRequest]>([])
        let clock = Mutex<Int64>(0)
        let waits = Mutex<[Double]>([])

        func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
            requests.withLock { $0.append(request) }
            if request.url.hasSuffix("/accesstoken/get") {
                let count = requests.withLock { $0.filter { $0.url.hasSuffix("/accesstoken/get") }.count }
                return ManagementResponse(
                    status: 200,
                    contentType: "application/json",
                    body: Array(#"{"access_token":"token-\#(count)","expires_in":"3600"}"#.utf8)
                )
            }
            return answers.withLock {
                $0.isEmpty
                    ? ManagementResponse(status: 200, contentType: nil, body: Array("[]".utf8)) : $0.removeFirst()
            }
        }
    }

    static let credentials = ManagementCredentials(
        clientID: "id",
        clientSecret: "SECRET-client-0001",
        subscriptionKey: "KEY-subscription-0002",
        msn: nil
    )
    static let identity = ClientIdentity(systemName: "t", systemVersion: "1", pluginName: "p", pluginVersion: "1")

    static func session(_ script: Script) throws -> VippsAPISession {
        try VippsAPISession(
            baseURL: "https://api.example.com",
            credentials: credentials,
            identity: identity,
            transport: script,
            nowMillis: { script.clock.withLock { $0 } },
            sleep: { seconds in script.waits.withLock { $0.append(seconds) } }
        )
    }

    @Test(
        "one token for many calls; a new one two minutes before it expires; no MSN header on the token call without one"
    )
    func tokenReuse() throws {
        let script = Script()
        let session = try Self.session(script)
        for _ in 0..<3 { _ = try session.call("GET", "/x", msn: "1234567", step: .ePayment, expecting: [200]) }
        script.clock.withLock { $0 = (3600 - 121) * 1000 }
        _ = try session.call("GET", "/x", msn: "1234567", step: .ePayment, expecting: [200])
        script.clock.withLock { $0 = (3600 - 119) * 1000 }
        let last = try session.call("GET", "/x", msn: "1234567", step: .ePayment, expecting: [200])
        #expect(last.status == 200)
        let requests = script.requests.withLock { $0 }
        #expect(requests.filter { $0.url.hasSuffix("/accesstoken/get") }.count == 2)
        #expect(requests.last?.header("Authorization") == "Bearer token-2")
        #expect(requests.last?.header("Merchant-Serial-Number") == "1234567")
        #expect(requests.first?.header("Merchant-Serial-Number") == nil)
    }

    @Test("429 and 503 are retried with doubling waits or Retry-After (capped); 4 attempts in all, then the error")
    func retries() throws {
        let script = Script()
        let session = try Self.session(script)
        script.answers.withLock {
            $0 = [
                ManagementResponse(status: 429, contentType: nil, body: [], retryAfterSeconds: 7),
                ManagementResponse(status: 503, contentType: nil, body: []),
                ManagementResponse(status: 200, contentType: nil, body: Array("[]".utf8)),
            ]
        }
        #expect(try session.call("GET", "/x", msn: nil, step: .ePayment, expecting: [200]).status == 200)
        #expect(script.waits.withLock { $0 } == [7, 1])
        script.waits.withLock { $0 = [] }
        script.answers.withLock {
            $0 =
                Array(
                    repeating: ManagementResponse(
                        status: 500,
                        contentType: nil,
                        body: Array("KEY-subscription-0002 leaked".utf8)
                    ),
                    count: 4
                )
                + [ManagementResponse(status: 429, contentType: nil, body: [], retryAfterSeconds: 3600)]
        }
        do {
            _ = try session.call("GET", "/x", msn: nil, step: .ePayment, expecting: [200])
            Issue.record("no error after 4 failures")
        } catch {
            #expect("\(error)".hasPrefix("500"), "\(error)")
            #expect(!"\(error)".contains("KEY-subscription-0002"), "a secret in \(error)")
        }
        #expect(script.waits.withLock { $0 } == [0.5, 1, 2])
        _ = try? session.call("GET", "/x", msn: nil, step: .ePayment, expecting: [200])
        #expect(script.waits.withLock { $0 }.last == VippsAPISession.RetrySchedule.standard.longestWait)
    }

    @Test("a 401 with a cached token fetches a new token once; a 400 is not retried")
    func revokedToken() throws {
        let script = Script()
        let session = try Self.session(script)
        script.answers.withLock {
            $0 = [
                ManagementResponse(status: 401, contentType: nil, body: []),
                ManagementResponse(status: 200, contentType: nil, body: Array("[]".utf8)),
                ManagementResponse(status: 400, contentType: nil, body: []),
            ]
        }
        #expect(try session.call("GET", "/x", msn: nil, step: .ePayment, expecting: [200]).status == 200)
        #expect(script.requests.withLock { $0.filter { $0.url.hasSuffix("/accesstoken/get") }.count } == 2)
        #expect(throws: ManagementError.self) {
            try session.call("GET", "/x", msn: nil, step: .ePayment, expecting: [200])
        }
        #expect(script.waits.withLock { $0 }.isEmpty)
    }

    @Test("the event log: entries for another reference, unknown names, no pspReference are skipped with a reason")
    func logParsing() throws {
        let text = """
            [{"reference":"order-0001","pspReference":"p1","name":"CREATED","amount":{"currency":"NOK","value":100},\
            "timestamp":"2026-12-05T10:11:12.123456789Z","idempotencyKey":null,"success":true},
            {"reference":"order-0002","pspReference":"p2","name":"CREATED","success":true},
            {"reference":"order-0001","pspReference":"p3","name":"TELEPORTED","success":true},
            {"reference":"order-0001","name":"CAPTURED","success":true},
            {"reference":"order-0001","pspReference":"p5","name":"CAPTURED","success":"yes"},
            17]
            """
        let parsed = try EPaymentLogEntry.parseLog(try JSONParser.parse(Array(text.utf8)), reference: "order-0001")
        #expect(parsed.entries.map(\.pspReference) == ["p1"])
        #expect(parsed.skipped.count == 5, "\(parsed.skipped)")
        let entry = try #require(parsed.entries.first)
        #expect(entry.timestampMillis == 1_796_465_472_123)
        let body = entry.body(msn: "1234567")
        let decoded = DecodedEvent.decode(body: body)
        #expect(decoded.type == "epayments.payment.created.v1")
        #expect(
            EventIdentity.id(body: body, decoded: decoded)
                == EPaymentBusinessKey(msn: "1234567", reference: "order-0001", pspReference: "p1", name: "CREATED").id
        )
        #expect(throws: ManagementError.self) { try EPaymentLogEntry.parseLog(.object([]), reference: "order-0001") }
    }
}
