/// What the management API needs to issue an access token: the merchant's API keys and serial number.
///
/// `description` never shows the client secret or the subscription key.
public struct ManagementCredentials: Sendable, CustomStringConvertible {
    /// `client_id` from the merchant portal.
    public var clientID: String
    /// `client_secret` from the merchant portal (a secret).
    public var clientSecret: String
    /// `Ocp-Apim-Subscription-Key` (a secret).
    public var subscriptionKey: String
    /// Merchant serial number, `Merchant-Serial-Number`; `nil` for a partner or PSP acting for all its merchants
    /// (the header is then left out, as the Webhooks API allows).
    public var msn: String?

    /// Creates credentials; check them with ``ManagementInput/checkCredentials(_:)`` before use.
    public init(clientID: String, clientSecret: String, subscriptionKey: String, msn: String?) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.subscriptionKey = subscriptionKey
        self.msn = msn
    }

    /// The values that must never appear in output.
    var secrets: [String] { [clientSecret, subscriptionKey].filter { !$0.isEmpty } }

    public var description: String {
        "ManagementCredentials(clientID: \(clientID), msn: \(msn ?? "none"), <redacted keys>)"
    }
}
