import Synchronization
import Testing
import VippsWebhooks

@testable import VippsAPI

/// Numbers from the vendor's answers that must not reach arithmetic or `usleep` unchecked: a `Retry-After` that is
/// not a finite number of seconds, a token lifetime near `Int64.max`.
@Suite("vendor API session: hostile numbers")
struct VippsAPISessionHostileNumbersTests {
    final class Scripted: ManagementTransport, @unchecked Sendable {
        let expiresIn: String
        let retryAfter: Double?
        let calls = Mutex(0)
        let waits = Mutex<[Double]>([])

        init(expiresIn: String, retryAfter: Double?) {
            self.expiresIn = expiresIn
            self.retryAfter = retryAfter
        }

        func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
            if request.url.hasSuffix("/accesstoken/get") {
                return ManagementResponse(
                    status: 200,
                    contentType: "application/json",
                    body: Array(#"{"access_token":"t","expires_in":"\#(expiresIn)"}"#.utf8)
                )
            }
            let first = calls.withLock { count -> Bool in
                count += 1
                return count == 1
            }
            return first
                ? ManagementResponse(status: 429, contentType: nil, body: [], retryAfterSeconds: retryAfter)
                : ManagementResponse(status: 200, contentType: nil, body: Array("[]".utf8))
        }
    }

    static func session(_ script: Scripted) throws -> VippsAPISession {
        try VippsAPISession(
            baseURL: "https://api.example.com",
            credentials: ManagementCredentials(clientID: "id", clientSecret: "s", subscriptionKey: "k", msn: nil),
            identity: ClientIdentity(systemName: "t", systemVersion: "1", pluginName: "p", pluginVersion: "1"),
            transport: script,
            nowMillis: { 1_800_000_000_000 },
            sleep: { seconds in script.waits.withLock { $0.append(seconds) } }
        )
    }

    @Test("a Retry-After that is NaN gives a finite wait (the daemon's sleep turns the wait into a UInt32)")
    func retryAfterNaN() throws {
        let script = Scripted(expiresIn: "3600", retryAfter: .nan)
        _ = try Self.session(script).call("GET", "/x", msn: nil, step: .ePayment, expecting: [200])
        let waits = script.waits.withLock { $0 }
        #expect(waits.count == 1 && waits.allSatisfy(\.isFinite), "\(waits)")
    }

    @Test("an expires_in near Int64.max does not overflow the refresh time")
    func hugeTokenLifetime() throws {
        let script = Scripted(expiresIn: "\(Int64.max)", retryAfter: nil)
        let answer = try Self.session(script).call("GET", "/x", msn: nil, step: .ePayment, expecting: [200])
        #expect(answer.status == 200)
    }
}
