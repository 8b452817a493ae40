/// One HTTP request to the management API, built without I/O.
public struct ManagementRequest: Sendable {
    /// `GET`, `POST` or `DELETE`.
    public var method: String
    /// The absolute URL.
    public var url: String
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// The body (empty for the token call, `GET` and `DELETE`).
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The request for an access token: `POST {baseURL}/accesstoken/get` with the keys (and the MSN, when there is
    /// one) as headers, then the `Vipps-System-*` headers.
    public static func accessToken(
        baseURL: String,
        credentials: ManagementCredentials,
        identity: ClientIdentity
    ) -> ManagementRequest {
        var headers: [(name: String, value: String)] = [
            ("client_id", credentials.clientID), ("client_secret", credentials.clientSecret),
            ("Ocp-Apim-Subscription-Key", credentials.subscriptionKey),
        ]
        if let msn = credentials.msn { headers.append(("Merchant-Serial-Number", msn)) }
        return ManagementRequest(method: "POST", url: baseURL + "/accesstoken/get", headers: headers + identity.headers)
    }
}

/// An HTTP answer from the management API.
public struct ManagementResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The `Content-Type` header, if any.
    public var contentType: String?
    /// The body bytes.
    public var body: [UInt8]
    /// The `Retry-After` header in seconds, when it was a number.
    public var retryAfterSeconds: Double?

    /// Creates a response.
    public init(status: Int, contentType: String?, body: [UInt8], retryAfterSeconds: Double? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// Carries management requests; the real one is ``HTTPClientTransport``, tests may use their own.
public protocol ManagementTransport: Sendable {
    /// Sends `request` and returns the answer, or throws ``ManagementError/network(_:)``.
    func perform(_ request: ManagementRequest) throws(ManagementError) -> ManagementResponse
}
