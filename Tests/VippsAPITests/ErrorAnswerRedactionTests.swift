import Synchronization
import Testing
import VippsWebhooks

@testable import VippsAPI

/// An error answer that is not JSON is redacted whole and then cut (cut first, a secret straddling the cut was not
/// recognised and its first bytes reached the error text: logs, terminal).
@Suite("secrets in error answers")
struct ErrorAnswerRedactionTests {
    final class Echo: ManagementTransport, @unchecked Sendable {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9-TOKEN-VALUE-0123456789"
        let filler: Int
        init(filler: Int) { self.filler = filler }

        func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
            if request.url.hasSuffix("/accesstoken/get") {
                return ManagementResponse(
                    status: 200,
                    contentType: "application/json",
                    body: Array(#"{"access_token":"\#(token)","expires_in":"3600"}"#.utf8)
                )
            }
            // A gateway's plain-text error page that echoes the Authorization header it refused.
            let text = String(repeating: "x", count: filler) + " Authorization: Bearer " + token
            return ManagementResponse(status: 400, contentType: "text/plain", body: Array(text.utf8))
        }
    }

    @Test("a token echoed across the 300-byte cut of a plain-text error answer leaks no part of it")
    func tokenAcrossTheCut() throws {
        let echo = Echo(filler: 260)  // the token starts at byte 283, the cut is at 300
        let session = try VippsAPISession(
            baseURL: "https://api.example.com",
            credentials: ManagementCredentials(
                clientID: "id",
                clientSecret: "SECRET-client-0001",
                subscriptionKey: "KEY-subscription-0002",
                msn: nil
            ),
            identity: ClientIdentity(systemName: "t", systemVersion: "1", pluginName: "p", pluginVersion: "1"),
            transport: echo,
            nowMillis: { 0 },
            sleep: { _ in }
        )
        do {
            _ = try session.call(
                "GET",
                "/epayment/v1/payments/order-0001/events",
                msn: "123456",
                step: .ePayment,
                expecting: [200]
            )
            Issue.record("no error")
        } catch {
            let text = "\(error)"
            #expect(!text.contains(String(echo.token.prefix(12))), "part of the access token in: \(text)")
        }
    }
}
