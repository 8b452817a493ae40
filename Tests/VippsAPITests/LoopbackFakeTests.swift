import Synchronization
import TestSupport
import Testing
import VippsAPI

/// The clients over the real HTTP transport against TestSupport's fakes of the vendor's APIs on 127.0.0.1: one
/// token per client, a register whose answer is lost is not sent again, the session's retries reach the API.
@Suite("vendor API clients against the loopback fakes")
struct LoopbackFakeTests {
    static let identity = ClientIdentity(systemName: "t", systemVersion: "1", pluginName: "p", pluginVersion: "1")
    static let msn = "1234567"

    static func managementClient(_ api: FakeVippsAPI) throws -> ManagementClient {
        try ManagementClient(
            baseURL: api.baseURL,
            credentials: ManagementCredentials(
                clientID: FakeVippsAPI.clientID,
                clientSecret: FakeVippsAPI.clientSecret,
                subscriptionKey: FakeVippsAPI.subscriptionKey,
                msn: msn
            ),
            identity: identity,
            transport: HTTPClientTransport(timeoutSeconds: 5)
        )
    }

    /// A session with the ePayment fake's keys over the real transport, waiting 0.01 s, then doubling up to 0.05 s.
    static func session(
        _ api: FakeEPaymentAPI,
        timeout: Double,
        attempts: Int,
        sleep: @escaping @Sendable (Double) -> Void
    ) throws -> VippsAPISession {
        try VippsAPISession(
            baseURL: api.baseURL,
            credentials: ManagementCredentials(
                clientID: FakeEPaymentAPI.clientID,
                clientSecret: FakeEPaymentAPI.clientSecret,
                subscriptionKey: FakeEPaymentAPI.subscriptionKey,
                msn: msn
            ),
            identity: identity,
            transport: HTTPClientTransport(timeoutSeconds: timeout),
            retry: .init(attempts: attempts, firstWait: 0.01, longestWait: 0.05),
            nowMillis: { 0 },
            sleep: sleep
        )
    }

    @Test("register, list and delete over HTTP with one access token")
    func managementRoundTrip() throws {
        let api = try FakeVippsAPI()
        defer { api.stop() }
        let client = try Self.managementClient(api)
        let created = try client.register(
            url: "https://shop.example/hook",
            events: ["epayments.payment.captured.v1"],
            idempotencyKey: "key-1"
        )
        #expect(try client.list().registrations.map(\.id) == [created.id])
        try client.delete(id: created.id)
        #expect(try client.list().registrations.isEmpty)
        #expect(api.seen.filter { $0.target == "/accesstoken/get" }.count == 1)
    }

    @Test("a register whose answer is lost (504 after the API acted) is sent once and held once")
    func lostRegisterAnswer() throws {
        let api = try FakeVippsAPI()
        defer { api.stop() }
        api.loseRegisterAnswers()
        let client = try Self.managementClient(api)
        #expect(throws: ManagementError.self) {
            try client.register(
                url: "https://shop.example/hook",
                events: ["epayments.payment.captured.v1"],
                idempotencyKey: "key-1"
            )
        }
        #expect(api.seen.filter { $0.method == "POST" && $0.target == "/webhooks/v1/webhooks" }.count == 1)
        #expect(api.registrations.count == 1)
    }

    @Test("the event log over HTTP with one token; a failing payment is retried by the schedule, then an error")
    func eventLogWithRetries() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        api.setLog("order-00001", msn: Self.msn, [FakeEPaymentAPI.Entry(pspReference: "psp-1", name: "CAPTURED")])
        api.fail("order-00002", status: 503)
        let waits = Mutex<[Double]>([])
        let session = try Self.session(api, timeout: 5, attempts: 3) { seconds in waits.withLock { $0.append(seconds) }
        }
        let client = EPaymentClient(session: session)
        let log = try client.events(reference: "order-00001", msn: Self.msn)
        #expect(log.entries.map(\.pspReference) == ["psp-1"] && log.skipped.isEmpty)
        #expect(throws: ManagementError.self) { try client.events(reference: "order-00002", msn: Self.msn) }
        #expect(api.eventCalls == 1 + 3)
        #expect(waits.withLock { $0 } == [0.01, 0.02])
        #expect(api.tokenCalls == 1)
    }

    @Test("an answer over the size bound is refused once, not retried as if the network had failed")
    func oversizedAnswerIsNotRetried() throws {
        let api = try FakeEPaymentAPI()
        defer { api.stop() }
        // ~190 bytes per entry: 25,000 entries make an answer of ~4.7 MB, over the 4 MiB bound.
        let entries = (0..<25_000).map { FakeEPaymentAPI.Entry(pspReference: "psp-\($0)", name: "CAPTURED") }
        api.setLog("order-big", msn: Self.msn, entries)
        let session = try Self.session(api, timeout: 10, attempts: 4) { _ in }
        do {
            _ = try EPaymentClient(session: session).events(reference: "order-big", msn: Self.msn)
            Issue.record("an answer over the bound was accepted")
        } catch {
            guard case .malformedResponse(let reason) = error else {
                Issue.record("not a malformed answer: \(error)")
                return
            }
            #expect(reason.contains("over \(VippsAPISession.maximumResponseBytes) bytes"))
        }
        #expect(api.eventCalls == 1)
    }
}
