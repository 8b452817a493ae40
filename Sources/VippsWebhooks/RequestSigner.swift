import VippsCrypto

/// Signs requests the way the Vipps webhook service does (README: How signing works); used by `sign`, `send` and
/// the tests.
public enum RequestSigner {
    /// The three headers a signed delivery carries.
    public struct Headers: Sendable, Equatable {
        /// `x-ms-date`.
        public var date: String
        /// `x-ms-content-sha256`.
        public var contentHash: String
        /// `authorization` (Vipps also sends the same value as `x-vipps-authorization`).
        public var authorization: String
    }

    /// The base64 HMAC-SHA256 signature of a string to sign.
    public static func signature(secret: WebhookSecret, stringToSign: String) -> String {
        secret.hmacKey.base64AuthenticationCode(for: Array(stringToSign.utf8))
    }

    /// Signs a request.
    /// - Parameters:
    ///   - secret: the registration secret.
    ///   - method: the HTTP method, `POST` for deliveries.
    ///   - target: host and path+query of the registered URL.
    ///   - date: the HTTP-date to send as `x-ms-date`.
    ///   - body: the exact body bytes that will be sent.
    public static func sign(
        secret: WebhookSecret,
        method: String = "POST",
        target: SignedTarget,
        date: String,
        body: some Collection<UInt8>
    ) -> Headers {
        let contentHash = ContentHash.of(body)
        let text = StringToSign.make(method: method, target: target, date: date, contentHash: contentHash)
        let authorization = AuthorizationHeader(signature: signature(secret: secret, stringToSign: text))
        return Headers(date: date, contentHash: contentHash, authorization: authorization.value)
    }
}
