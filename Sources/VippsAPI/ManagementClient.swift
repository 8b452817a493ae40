import VippsWebhooks

/// A client for the Vipps MobilePay Webhooks API (the vendor's Webhooks API): access token, register, list, delete.
///
/// Fetches an access token on first use and reuses it while it is fresh (``AccessTokenCache``). Sends every request
/// once and never again: a register whose answer was lost must not be sent twice. Input is checked before any call;
/// every failure is a ``ManagementError`` whose description is one line and never contains the client secret,
/// subscription key or token.
public final class ManagementClient {
    /// Longest answer body accepted.
    public static let maximumResponseBytes = 1 << 20

    private let baseURL: String
    private let credentials: ManagementCredentials
    private let identity: ClientIdentity
    private let transport: any ManagementTransport
    private let token: AccessTokenCache

    /// Creates a client.
    /// - Parameters:
    ///   - baseURL: the API root, checked with ``ManagementInput/checkBaseURL(_:)``.
    ///   - credentials: the merchant's keys, checked with ``ManagementInput/checkCredentials(_:)``.
    ///   - identity: the `Vipps-System-*` header values.
    ///   - transport: how requests travel (default: ``HTTPClientTransport``).
    /// - Throws: ``ManagementError/invalidInput(_:)`` for a bad root or credentials.
    public init(
        baseURL: String,
        credentials: ManagementCredentials,
        identity: ClientIdentity,
        transport: any ManagementTransport = HTTPClientTransport()
    ) throws(ManagementError) {
        self.baseURL = try ManagementInput.checkBaseURL(baseURL)
        try ManagementInput.checkCredentials(credentials)
        self.credentials = credentials
        self.identity = identity
        self.transport = transport
        token = AccessTokenCache(baseURL: self.baseURL, credentials: credentials, identity: identity)
    }

    /// Registers `url` for `events`; the answer's secret is shown only this once.
    /// - Parameters:
    ///   - url: an https URL (checked before any call).
    ///   - events: event types (checked; unknown ones are sent as given).
    ///   - idempotencyKey: sent as `Idempotency-Key`, as the vendor's SDKs do, so that a retry after a lost answer
    ///     can carry the same key (checked: 1–64 URL-unreserved characters).
    public func register(
        url: String,
        events: [String],
        idempotencyKey: String
    ) throws(ManagementError)
        -> CreatedWebhook
    {
        let url = try ManagementInput.checkWebhookURL(url)
        let events = try ManagementInput.checkEvents(events).events
        try ManagementInput.checkIdempotencyKey(idempotencyKey)
        let body = JSONValue.object([
            JSONMember("url", .string(url)), JSONMember("events", .array(events.map(JSONValue.string))),
        ]).compactBytes
        // Any 2xx made the registration: one whose body cannot be read is an unusable one, not a failure.
        let json = try call(
            "POST",
            "/webhooks/v1/webhooks",
            body: body,
            idempotencyKey: idempotencyKey,
            expecting: Set(200...299),
            unreadableBody: { reason in .unusableRegistration(id: nil, reason: reason) }
        )
        return try CreatedWebhook.parse(json ?? .null)
    }

    /// Lists the merchant's registrations: the well-formed ones, and a warning for each malformed item.
    public func list() throws(ManagementError) -> WebhookListing {
        let json = try call("GET", "/webhooks/v1/webhooks", expecting: [200])
        return try WebhookListing.parse(json ?? .null)
    }

    /// Deletes the registration `id`.
    public func delete(id: String) throws(ManagementError) {
        try ManagementInput.checkWebhookID(id)
        _ = try call("DELETE", "/webhooks/v1/webhooks/\(id)", expecting: [200, 204], parseBody: false)
    }

    /// A Webhooks API request carrying `token` (exposed for tests of the header set).
    public func webhooksRequest(
        method: String,
        path: String,
        body: [UInt8],
        token: String,
        idempotencyKey: String? = nil
    ) -> ManagementRequest {
        var headers: [(name: String, value: String)] =
            [("Authorization", "Bearer \(token)"), ("Ocp-Apim-Subscription-Key", credentials.subscriptionKey)]
            + msnHeader + [("Accept", "application/json, application/problem+json")]
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        return ManagementRequest(method: method, url: baseURL + path, headers: headers + identity.headers, body: body)
    }

    /// `Merchant-Serial-Number`, or nothing for a partner without one.
    private var msnHeader: [(name: String, value: String)] {
        credentials.msn.map { [("Merchant-Serial-Number", $0)] } ?? []
    }

    private func call(
        _ method: String,
        _ path: String,
        body: [UInt8] = [],
        idempotencyKey: String? = nil,
        expecting: Set<Int>,
        parseBody: Bool = true,
        unreadableBody: (String) -> ManagementError = { .malformedResponse($0) }
    ) throws(ManagementError) -> JSONValue? {
        let request = webhooksRequest(
            method: method,
            path: path,
            body: body,
            token: try token.value(sendingWith: send),
            idempotencyKey: idempotencyKey
        )
        let response: ManagementResponse
        do {
            response = try send(request)
        } catch .malformedResponse(let reason) {
            throw unreadableBody(reason)  // over the size bound: this call's answer, whatever its status
        }
        guard expecting.contains(response.status) else { throw token.rejection(.webhooks, response) }
        guard parseBody else { return nil }
        do { return try JSONParser.parse(response.body) } catch { throw unreadableBody("body is not JSON (\(error))") }
    }

    private func send(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse {
        let response: ManagementResponse
        do {
            response = try transport.perform(request)
        } catch .network(let message) {
            throw .network(token.redacted(message))
        } catch {
            throw error
        }
        guard response.body.count <= Self.maximumResponseBytes else {
            throw .malformedResponse("the answer body is over \(Self.maximumResponseBytes) bytes")
        }
        return response
    }

}
