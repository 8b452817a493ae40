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

    /// Parses a `{"webhooks": [{"id","url","events"}]}` answer.
    static func parseList(_ json: JSONValue) throws(ManagementError) -> [WebhookRegistration] {
        guard case .array(let items)? = json["webhooks"] else {
            throw .malformedResponse("list answer has no \"webhooks\" array")
        }
        var result: [WebhookRegistration] = []
        for item in items {
            guard let id = item["id"]?.stringValue, let url = item["url"]?.stringValue,
                case .array(let events)? = item["events"]
            else { throw .malformedResponse("a listed webhook lacks \"id\", \"url\" or \"events\"") }
            result.append(WebhookRegistration(id: id, url: url, events: events.compactMap(\.stringValue)))
        }
        return result
    }
}
