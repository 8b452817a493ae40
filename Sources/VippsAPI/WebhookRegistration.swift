import VippsWebhooks

/// One registration as `GET /webhooks/v1/webhooks` lists it (the secret is never shown again).
public struct WebhookRegistration: Sendable, Equatable {
    /// The registration id (a UUID).
    public var id: String
    /// The URL deliveries go to.
    public var url: String
    /// The event types it covers.
    public var events: [String]

    /// Creates a registration value.
    public init(id: String, url: String, events: [String]) {
        self.id = id
        self.url = url
        self.events = events
    }
}

/// The answer to `GET /webhooks/v1/webhooks`: the well-formed registrations, and one warning per item that lacks an
/// `id`, `url` or `events` list (the rest of the list stays usable).
public struct WebhookListing: Sendable, Equatable {
    /// The well-formed registrations, in the order listed.
    public var registrations: [WebhookRegistration]
    /// One line per malformed item, e.g. `item 3 (id 3fa8…) lacks "url"; skipped`: at most ``maximumWarnings``, then
    /// one line counting the rest.
    public var warnings: [String]

    /// Most item warnings kept from one answer.
    public static let maximumWarnings = 20

    /// Creates a listing.
    public init(registrations: [WebhookRegistration], warnings: [String] = []) {
        self.registrations = registrations
        self.warnings = warnings
    }

    /// Whether `text` can stand in a `webhooks list` line (`id url events`): no whitespace, no control character (a
    /// vendor's text must neither break the line's fields nor drive the terminal).
    static func isPrintable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { !OutputText.isControlOrSpace($0) && !$0.properties.isWhitespace }
    }

    /// Parses a `{"webhooks": [{"id","url","events"}]}` answer; only a missing `webhooks` array is an error. An item
    /// lacking a field, or with a space or control character in one, is skipped with a warning.
    static func parse(_ json: JSONValue) throws(ManagementError) -> WebhookListing {
        guard case .array(let items)? = json["webhooks"] else {
            throw .malformedResponse("list answer has no \"webhooks\" array")
        }
        var listing = WebhookListing(registrations: [])
        var malformed = 0
        for (index, item) in items.enumerated() {
            let rawID = item["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let rawURL = item["url"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let rawEvents: [String]? =
                if case .array(let values)? = item["events"] { values.compactMap(\.stringValue) } else { nil }
            let id = rawID.flatMap { isPrintable($0) ? $0 : nil }
            let url = rawURL.flatMap { isPrintable($0) ? $0 : nil }
            let events = rawEvents.flatMap { $0.allSatisfy(isPrintable) ? $0 : nil }
            guard let id, let url, let events else {
                malformed += 1
                guard listing.warnings.count < maximumWarnings else { continue }
                let fields =
                    [("id", rawID != nil, id != nil), ("url", rawURL != nil, url != nil)]
                    + [("events", rawEvents != nil, events != nil)]
                let lacking = fields.filter { !$0.1 }.map { "\"\($0.0)\"" }.joined(separator: ", ")
                let unprintable = fields.filter { $0.1 && !$0.2 }.map { "\"\($0.0)\"" }.joined(separator: ", ")
                let named = rawID.map { " (id \(OutputText.clean($0)))" } ?? ""
                let problems = [
                    lacking.isEmpty ? nil : "lacks \(lacking)",
                    unprintable.isEmpty ? nil : "has spaces or control characters in \(unprintable)",
                ].compactMap { $0 }.joined(separator: " and ")
                listing.warnings.append("item \(index + 1)\(named) \(problems); skipped")
                continue
            }
            listing.registrations.append(WebhookRegistration(id: id, url: url, events: events))
        }
        if malformed > listing.warnings.count {
            listing.warnings.append("\(malformed - listing.warnings.count) more malformed items skipped")
        }
        return listing
    }
}
