import VippsWebhooks

/// The answer to a registration: its id and the secret that signs its deliveries (shown only this once).
///
/// `description` never shows the secret.
public struct CreatedWebhook: Sendable, CustomStringConvertible {
    /// The new registration's id.
    public var id: String
    /// The registration secret, to be stored in a secret file and never printed.
    public var secret: String

    /// Creates a value.
    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    public var description: String { "CreatedWebhook(id: \(id), secret: <redacted>)" }

    /// Parses a `{"id","secret"}` answer.
    static func parse(_ json: JSONValue) throws(ManagementError) -> CreatedWebhook {
        guard let id = json["id"]?.stringValue, !id.isEmpty, let secret = json["secret"]?.stringValue,
            !secret.isEmpty
        else { throw .malformedResponse("register answer lacks a non-empty \"id\" or \"secret\"") }
        return CreatedWebhook(id: id, secret: secret)
    }
}
