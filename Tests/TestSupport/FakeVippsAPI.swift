import Foundation
import HTTPServer
import Synchronization
import VippsWebhooks

/// A fake of the Vipps MobilePay access token and Webhooks APIs on 127.0.0.1, built on the project's
/// HTTPServer, for end-to-end tests of `vipps-webhookd webhooks`.
///
/// Enforces the documented headers (token: `client_id`, `client_secret`, `Ocp-Apim-Subscription-Key`, an optional
/// `Merchant-Serial-Number`; API: `Authorization: Bearer` with a token it issued, the subscription key and the same
/// MSN as the token, 4 to 10 digits, or none for a partner's calls), the status codes (201, 200, 204), problem+json
/// errors with `extraDetails` (non-https URL, unknown or missing event types, unknown id), 401 for a missing or
/// invalid token, and the limit of 25 registrations per event type per MSN (1 for `user.checked-in.v1`).
///
/// Tests can also change its registrations behind the client's back (the vendor deleting one), add malformed items
/// to its list answer, and make it answer 503 to everything (the API down).
public final class FakeVippsAPI: Sendable {
    /// The client id the fake accepts.
    public static let clientID = "fake-client-id"
    /// The client secret the fake accepts.
    public static let clientSecret = "fake-client-secret-Zq81"
    /// The subscription key the fake accepts.
    public static let subscriptionKey = "fake-subscription-key-Ht55"

    /// One request as the fake saw it.
    public struct Seen: Sendable {
        /// The request method.
        public var method: String
        /// The request target (path and query).
        public var target: String
        /// The header fields in order.
        public var headers: [(name: String, value: String)]

        /// The value of the first header named `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// A registration the fake holds.
    public struct Registration: Sendable {
        /// Its id.
        public var id: String
        /// The registered URL.
        public var url: String
        /// The event types.
        public var events: [String]
        /// The merchant it belongs to (empty for a partner's).
        public var msn: String
        /// The signing secret handed out at registration.
        public var secret: String
    }

    private struct State {
        var tokens: [String: String] = [:]  // token -> msn
        var registrations: [Registration] = []
        var seen: [Seen] = []
        var revokeTokens = false
        var malformedItems: [String] = []
        var down = false
        var lostRegisterAnswer = false
    }

    private let state = Mutex(State())
    private let server: FakeHTTPServer
    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { server.baseURL }

    /// Starts the fake with no registrations.
    public init() throws {
        server = try FakeHTTPServer()
        server.answer { [weak self] request in self?.answer(request) ?? .text(500, "") }
    }

    /// Every request seen so far.
    public var seen: [Seen] { state.withLock { $0.seen } }
    /// Every registration held.
    public var registrations: [Registration] { state.withLock { $0.registrations } }
    /// Tokens issued from now on are forgotten at once, so API calls carrying them get 401.
    public func revokeTokens() { state.withLock { $0.revokeTokens = true } }

    /// Adds one registration directly, as if made earlier; returns its id.
    @discardableResult
    public func add(url: String, events: [String], msn: String) -> String {
        let id = UUID().uuidString.lowercased()
        let registration = Registration(id: id, url: url, events: events, msn: msn, secret: "added-" + id)
        state.withLock { $0.registrations.append(registration) }
        return id
    }

    /// Removes every registration for `url`, as the vendor does after two weeks of failed deliveries.
    public func removeAll(url: String) {
        state.withLock { $0.registrations.removeAll { $0.url == url } }
    }

    /// Raw JSON items appended to every list answer (malformed ones, to test tolerance).
    public func addMalformedItems(_ items: [String]) {
        state.withLock { $0.malformedItems += items }
    }

    /// From now on a registration is made but answered 504, as when a gateway times out after the API acted.
    public func loseRegisterAnswers() {
        state.withLock { $0.lostRegisterAnswer = true }
    }

    /// While `down`, every request gets 503 with a gateway message.
    public func setDown(_ down: Bool) {
        state.withLock { $0.down = down }
    }

    /// Adds registrations directly (to reach the limit fast).
    public func preload(_ count: Int, event: String, msn: String) {
        state.withLock { state in
            for index in 0..<count {
                state.registrations.append(
                    Registration(
                        id: UUID().uuidString.lowercased(),
                        url: "https://preloaded.example.com/\(index)",
                        events: [event],
                        msn: msn,
                        secret: "preloaded"
                    )
                )
            }
        }
    }

    /// Shuts the fake down.
    public func stop() {
        server.stop()
    }

    private func answer(_ request: HTTPRequest) -> HTTPResponse {
        let seen = Seen(method: request.method, target: request.target, headers: request.headers.fields)
        let down = state.withLock { state in
            state.seen.append(seen)
            return state.down
        }
        guard !down else { return json(503, #"{"statusCode":503,"message":"Service Unavailable"}"#) }
        let path = String(request.head.path)
        if path == "/accesstoken/get" {
            guard request.method == "POST" else { return problem(405, "Method Not Allowed") }
            return token(seen)
        }
        let prefix = "/webhooks/v1/webhooks"
        guard path == prefix || path.hasPrefix(prefix + "/") else { return problem(404, "Not Found") }
        guard seen.header("Ocp-Apim-Subscription-Key") == Self.subscriptionKey else {
            return json(401, #"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#)
        }
        let bearer = seen.header("Authorization") ?? ""
        let token = bearer.hasPrefix("Bearer ") ? String(bearer.dropFirst(7)) : ""
        guard let tokenMSN = state.withLock({ $0.tokens[token] }) else {
            return problem(401, "Unauthorized", detail: "The access token is missing, expired or invalid.")
        }
        let msn = seen.header("Merchant-Serial-Number") ?? ""
        guard msn.isEmpty || Self.isMSN(msn) else {
            return problem(
                400,
                "Bad Request",
                detail: "One or more validation errors occurred.",
                fields: [("Merchant-Serial-Number", "must match ^[0-9]{4,10}$")]
            )
        }
        guard msn == tokenMSN else { return problem(403, "Forbidden", detail: "The token is for another merchant.") }
        switch (request.method, path == prefix) {
        case ("POST", true): return register(request.body, msn: msn)
        case ("GET", true): return list(msn: msn)
        case ("DELETE", false): return delete(id: String(path.dropFirst(prefix.count + 1)), msn: msn)
        default: return problem(405, "Method Not Allowed")
        }
    }

    private func token(_ seen: Seen) -> HTTPResponse {
        guard seen.header("Ocp-Apim-Subscription-Key") == Self.subscriptionKey else {
            return json(401, #"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#)
        }
        guard seen.header("client_id") == Self.clientID, seen.header("client_secret") == Self.clientSecret else {
            return json(401, #"{"error":"unauthorized_client","error_description":"Invalid client credentials."}"#)
        }
        let msn = seen.header("Merchant-Serial-Number") ?? ""
        guard msn.isEmpty || Self.isMSN(msn) else {
            return problem(400, "Bad Request", detail: "Merchant-Serial-Number is invalid.")
        }
        let token = "tok-" + UUID().uuidString
        state.withLock { if !$0.revokeTokens { $0.tokens[token] = msn } }
        return json(
            200,
            #"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","expires_on":"1700000000","#
                + #""not_before":"1699996300","resource":"00000002-0000-0000-c000-000000000000","#
                + #""access_token":"\#(token)"}"#
        )
    }

    private func register(_ body: [UInt8], msn: String) -> HTTPResponse {
        guard let json = try? JSONParser.parse(body), let url = json["url"]?.stringValue,
            case .array(let items)? = json["events"]
        else {
            return problem(
                400,
                "Bad Request",
                detail: "One or more validation errors occurred.",
                fields: [("body", "must be {\"url\": string, \"events\": [string]}")]
            )
        }
        let events = items.compactMap(\.stringValue)
        var fields: [(String, String)] = []
        if !url.hasPrefix("https://") { fields.append(("url", "must be an absolute https URL")) }
        if events.isEmpty { fields.append(("events", "must not be empty")) }
        for event in events where !SampleEvents.knownTypes.contains(event) {
            fields.append(("events", "unknown event type \(event)"))
        }
        guard fields.isEmpty else {
            return problem(400, "Bad Request", detail: "One or more validation errors occurred.", fields: fields)
        }
        return state.withLock { state in
            for event in events {
                let limit = event == "user.checked-in.v1" ? 1 : 25
                let used = state.registrations.filter { $0.msn == msn && $0.events.contains(event) }.count
                if used >= limit {
                    return problem(
                        400,
                        "Bad Request",
                        detail: "Maximum number of webhooks reached for this merchant.",
                        fields: [("events", "\(event) already has \(limit) registrations for MSN \(msn)")]
                    )
                }
            }
            let created = Registration(
                id: UUID().uuidString.lowercased(),
                url: url,
                events: events,
                msn: msn,
                secret: "whsec-" + UUID().uuidString + "/+="
            )
            state.registrations.append(created)
            if state.lostRegisterAnswer { return self.json(504, #"{"statusCode":504,"message":"Gateway Timeout"}"#) }
            return self.json(201, #"{"id":"\#(created.id)","secret":"\#(created.secret)"}"#)
        }
    }

    private func list(msn: String) -> HTTPResponse {
        let (registrations, malformed) = state.withLock { state in
            (state.registrations.filter { $0.msn == msn }, state.malformedItems)
        }
        let items = registrations.map { registration in
            JSONValue.object([
                JSONMember("id", .string(registration.id)), JSONMember("url", .string(registration.url)),
                JSONMember("events", .array(registration.events.map(JSONValue.string))),
            ]).compactText
        }
        return json(200, #"{"webhooks":["# + (items + malformed).joined(separator: ",") + "]}")
    }

    private func delete(id: String, msn: String) -> HTTPResponse {
        let removed = state.withLock { state in
            let before = state.registrations.count
            state.registrations.removeAll { $0.id == id && $0.msn == msn }
            return state.registrations.count < before
        }
        return removed ? HTTPResponse(status: 204) : problem(404, "Not Found", detail: "No webhook with id \(id).")
    }

    private static func isMSN(_ text: String) -> Bool {
        (4...10).contains(text.count) && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private func json(_ status: Int, _ text: String) -> HTTPResponse {
        FakeHTTPServer.json(status, text)
    }

    private func problem(
        _ status: Int,
        _ title: String,
        detail: String? = nil,
        fields: [(String, String)] = []
    ) -> HTTPResponse {
        var members = [
            JSONMember("type", .string("https://developer.vippsmobilepay.com/docs/APIs/webhooks-api/errors")),
            JSONMember("title", .string(title)), JSONMember("status", .number(JSONNumber(Int64(status)))),
        ]
        if let detail { members.append(JSONMember("detail", .string(detail))) }
        members += [
            JSONMember("instance", .string("/webhooks/v1/webhooks")),
            JSONMember("traceId", .string("trace-0001")),
            JSONMember(
                "extraDetails",
                .array(
                    fields.map { .object([JSONMember("name", .string($0.0)), JSONMember("reason", .string($0.1))]) }
                )
            ),
        ]
        return HTTPResponse(
            status: status,
            headers: ["Content-Type": "application/problem+json"],
            body: JSONValue.object(members).compactBytes
        )
    }
}
