import VippsWebhooks

/// A Bearer token from `POST /accesstoken/get`.
///
/// `description` never shows the token.
public struct AccessToken: Sendable, CustomStringConvertible {
    /// The token value (a secret).
    public var value: String
    /// Seconds it stays valid, when the answer said (the vendor sends numbers as strings).
    public var expiresIn: Int64?

    /// Creates a token value.
    public init(value: String, expiresIn: Int64?) {
        self.value = value
        self.expiresIn = expiresIn
    }

    public var description: String { "AccessToken(<redacted>, expiresIn: \(expiresIn.map(String.init) ?? "?"))" }

    /// Parses `{"access_token": "...", "expires_in": "3600", ...}`; numbers may be JSON numbers or strings.
    static func parse(_ json: JSONValue) throws(ManagementError) -> AccessToken {
        guard let value = json["access_token"]?.stringValue, !value.isEmpty else {
            throw .malformedResponse("token answer has no \"access_token\"")
        }
        let expiresIn: Int64? =
            switch json["expires_in"] {
            case .number(let number)?: number.int64Value
            case .string(let text)?: Int64(text)
            default: nil
            }
        return AccessToken(value: value, expiresIn: expiresIn)
    }
}
