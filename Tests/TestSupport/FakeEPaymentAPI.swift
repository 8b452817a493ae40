import Foundation
import HTTPServer
import Synchronization

/// A fake of the vendor's access-token API and the ePayment event log (`GET /epayment/v1/payments/{reference}/
/// events`) on 127.0.0.1, built on the project's HTTPServer, for end-to-end tests of reconciliation.
///
/// Holds one log per reference (a list of entries, each an ePayment webhook body without `msn`); enforces the token,
/// the subscription key and a `Merchant-Serial-Number` equal to the payment's; answers 404 problem+json for an unknown
/// reference, and a chosen status for references set to fail.
public final class FakeEPaymentAPI: Sendable {
    /// The client id the fake accepts.
    public static let clientID = "fake-epayment-client"
    /// The client secret the fake accepts.
    public static let clientSecret = "fake-epayment-secret-Qw19"
    /// The subscription key the fake accepts.
    public static let subscriptionKey = "fake-epayment-subscription-Lk02"

    /// One entry of a payment's log, as the API sends it.
    public struct Entry: Sendable {
        /// The entry's `pspReference`.
        public var pspReference: String
        /// The event name (`CREATED`, `AUTHORIZED`, `CAPTURED`, …).
        public var name: String
        /// The amount in øre (NOK).
        public var amount: Int = 49900
        /// The entry's `success`.
        public var success = true
        /// The entry's RFC 3339 `timestamp`.
        public var timestamp = FakeEPaymentAPI.timestamp(secondsAgo: 60)

        /// Creates an entry; by default a successful 499 NOK event of a minute ago.
        public init(
            pspReference: String,
            name: String,
            amount: Int = 49900,
            success: Bool = true,
            timestamp: String = FakeEPaymentAPI.timestamp(secondsAgo: 60)
        ) {
            self.pspReference = pspReference
            self.name = name
            self.amount = amount
            self.success = success
            self.timestamp = timestamp
        }
    }

    /// An RFC 3339 time `secondsAgo` before now, with 9 fractional digits as the vendor sends them.
    public static func timestamp(secondsAgo: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let text = formatter.string(from: Date(timeIntervalSinceNow: -secondsAgo))
        return text.replacingOccurrences(of: "Z", with: ".123456789Z")
    }

    private struct State {
        var logs: [String: (msn: String, entries: [Entry])] = [:]
        var failing: [String: Int] = [:]
        var tokens: Set<String> = []
        var eventCalls = 0
        var eventCallTimes: [ContinuousClock.Instant] = []
        var tokenCalls = 0
    }

    private let state = Mutex(State())
    private let server: FakeHTTPServer
    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { server.baseURL }

    /// Starts the fake with no payments.
    public init() throws {
        server = try FakeHTTPServer()
        server.answer { [weak self] request in self?.answer(request) ?? .text(500, "") }
    }

    /// Sets the log of `reference` (of merchant `msn`).
    public func setLog(_ reference: String, msn: String, _ entries: [Entry]) {
        state.withLock { $0.logs[reference] = (msn, entries) }
    }

    /// Makes event-log calls for `reference` answer `status` (0 = answer normally again).
    public func fail(_ reference: String, status: Int) {
        state.withLock { $0.failing[reference] = status == 0 ? nil : status }
    }

    /// Event-log calls so far.
    public var eventCalls: Int { state.withLock { $0.eventCalls } }
    /// When each event-log call so far came in.
    public var eventCallTimes: [ContinuousClock.Instant] { state.withLock { $0.eventCallTimes } }

    /// Event-log calls that came in within `window` of the first one (0 before any): a rate measured on the calls'
    /// own times, not on how long a loaded machine let the test sleep.
    public func eventCalls(withinFirst window: Duration) -> Int {
        let times = eventCallTimes
        guard let first = times.first else { return 0 }
        return times.count { $0 - first < window }
    }
    /// Token calls so far.
    public var tokenCalls: Int { state.withLock { $0.tokenCalls } }

    /// A `KEY=VALUE` credentials file's text for this fake.
    public static func credentials(msn: String) -> String {
        "VIPPS_CLIENT_ID=\(clientID)\nVIPPS_CLIENT_SECRET=\(clientSecret)\nVIPPS_SUBSCRIPTION_KEY=\(subscriptionKey)\n"
            + "VIPPS_MSN=\(msn)\n"
    }

    /// Shuts the fake down.
    public func stop() {
        server.stop()
    }

    private func answer(_ request: HTTPRequest) -> HTTPResponse {
        let path = String(request.head.path)
        let header = { (name: String) in request.headers[name] }
        guard header("ocp-apim-subscription-key") == Self.subscriptionKey else {
            return json(401, #"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#)
        }
        if path == "/accesstoken/get" {
            guard request.method == "POST", header("client_id") == Self.clientID,
                header("client_secret") == Self.clientSecret
            else { return json(401, #"{"error":"unauthorized_client"}"#) }
            let token = "tok-" + UUID().uuidString
            state.withLock {
                $0.tokens.insert(token)
                $0.tokenCalls += 1
            }
            return json(200, #"{"token_type":"Bearer","expires_in":"3599","access_token":"\#(token)"}"#)
        }
        let prefix = "/epayment/v1/payments/"
        guard request.method == "GET", path.hasPrefix(prefix), path.hasSuffix("/events") else {
            return problem(404, "Not Found")
        }
        let bearer = header("authorization") ?? ""
        guard bearer.hasPrefix("Bearer "), state.withLock({ $0.tokens.contains(String(bearer.dropFirst(7))) }) else {
            return problem(401, "Unauthorized")
        }
        let reference = String(path.dropFirst(prefix.count).dropLast("/events".count))
        let (log, failing) = state.withLock { state in
            state.eventCalls += 1
            state.eventCallTimes.append(.now)
            return (state.logs[reference], state.failing[reference])
        }
        if let failing { return problem(failing, "Injected failure") }
        guard let log, header("merchant-serial-number") == log.msn else {
            return problem(404, "Not Found", detail: "No payment with reference \(reference)")
        }
        let items = log.entries.map { entry in
            #"{"reference":"\#(reference)","pspReference":"\#(entry.pspReference)","name":"\#(entry.name)","#
                + #""amount":{"currency":"NOK","value":\#(entry.amount)},"timestamp":"\#(entry.timestamp)","#
                + #""idempotencyKey":null,"success":\#(entry.success)}"#
        }
        return json(200, "[" + items.joined(separator: ",") + "]")
    }

    private func json(_ status: Int, _ text: String) -> HTTPResponse {
        FakeHTTPServer.json(status, text)
    }

    private func problem(_ status: Int, _ title: String, detail: String? = nil) -> HTTPResponse {
        var text = #"{"type":"about:blank","title":"\#(title)","status":\#(status)"#
        if let detail { text += #","detail":"\#(detail)""# }
        return FakeHTTPServer.json(status, text + "}", contentType: "application/problem+json")
    }
}
