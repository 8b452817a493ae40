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

    /// Parses a `{"id","secret"}` answer: an id as ``ManagementInput/checkWebhookID(_:)`` takes it (one that is not,
    /// a newline or an escape in it, is never printed), and a non-empty secret.
    static func parse(_ json: JSONValue) throws(ManagementError) -> CreatedWebhook {
        let id = json["id"]?.stringValue.flatMap { id in (try? ManagementInput.checkWebhookID(id)).map { id } }
        guard let id else { throw .unusableRegistration(id: nil, reason: "it has no valid \"id\"") }
        guard let secret = json["secret"]?.stringValue, !secret.isEmpty else {
            throw .unusableRegistration(id: id, reason: "it has no \"secret\"")
        }
        return CreatedWebhook(id: id, secret: secret)
    }
}
