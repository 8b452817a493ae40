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

    /// Parses a `{"webhooks": [{"id","url","events"}]}` answer; only a missing `webhooks` array is an error.
    static func parse(_ json: JSONValue) throws(ManagementError) -> WebhookListing {
        guard case .array(let items)? = json["webhooks"] else {
            throw .malformedResponse("list answer has no \"webhooks\" array")
        }
        var listing = WebhookListing(registrations: [])
        var malformed = 0
        for (index, item) in items.enumerated() {
            let id = item["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let url = item["url"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            let events: [String]? =
                if case .array(let values)? = item["events"] { values.compactMap(\.stringValue) } else { nil }
            guard let id, let url, let events else {
                malformed += 1
                guard listing.warnings.count < maximumWarnings else { continue }
                let lacking = [("id", id == nil), ("url", url == nil), ("events", events == nil)]
                    .filter(\.1).map { "\"\($0.0)\"" }.joined(separator: ", ")
                let named = id.map { " (id \(OutputText.clean($0)))" } ?? ""
                listing.warnings.append("item \(index + 1)\(named) lacks \(lacking); skipped")
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
