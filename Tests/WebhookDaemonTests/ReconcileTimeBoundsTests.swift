import Synchronization
import Testing
import VippsAPI

@testable import WebhookDaemon

/// The time one payment's reconciliation may take within the documented bounds (30 s per attempt, 4
/// attempts, Retry-After up to 30 s, a fresh token when needed) against the `reconcile` command's wait for one line
/// from the daemon (`ReconcileCommand.lineTimeoutSeconds`, "one payment, with the API's retries").
@Suite("reconcile time bounds")
struct ReconcileTimeBoundsTests {
    /// A degraded gateway on a virtual clock: every answer takes 29 s; the token call succeeds on its 4th attempt,
    /// every event-log call answers 503 with Retry-After: 30.
    final class SlowGateway: ManagementTransport, @unchecked Sendable {
        let clock = Mutex<Double>(0)
        let tokenCalls = Mutex(0)

        func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
            clock.withLock { $0 += 29 }
            if request.url.hasSuffix("/accesstoken/get") {
                let count = tokenCalls.withLock { count -> Int in
                    count += 1
                    return count
                }
                if count % 4 != 0 {
                    return ManagementResponse(status: 503, contentType: nil, body: [], retryAfterSeconds: 30)
                }
                return ManagementResponse(
                    status: 200,
                    contentType: "application/json",
                    body: Array(#"{"access_token":"token-value-\#(count)","expires_in":"3600"}"#.utf8)
                )
            }
            return ManagementResponse(status: 503, contentType: nil, body: [], retryAfterSeconds: 30)
        }
    }

    @Test("one payment's worst case within the documented bounds fits in the command's wait for its line")
    func onePaymentFitsTheLineTimeout() throws {
        let gateway = SlowGateway()
        let session = try VippsAPISession(
            baseURL: "https://api.example.com",
            credentials: ManagementCredentials(
                clientID: "id",
                clientSecret: "secret-0001",
                subscriptionKey: "key-0002",
                msn: "123456"
            ),
            identity: ReconciliationService.identity,
            transport: gateway,
            nowMillis: { Int64(gateway.clock.withLock { $0 } * 1000) },
            sleep: { seconds in gateway.clock.withLock { $0 += seconds } }
        )
        #expect(throws: ManagementError.self) {
            _ = try EPaymentClient(session: session).events(reference: "order-0001", msn: "123456")
        }
        let took = gateway.clock.withLock { $0 }
        #expect(
            took <= Double(ReconcileCommand.lineTimeoutSeconds),
            "one payment took \(took) s; the command stops waiting for its line after \(ReconcileCommand.lineTimeoutSeconds) s"
        )
    }
}
