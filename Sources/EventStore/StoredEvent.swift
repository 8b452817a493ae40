/// One authentic event as the journal keeps it and the sinks receive it.
///
/// The body is kept byte for byte as received: it is what the signature covered and what the file sink writes.
public struct StoredEvent: Sendable, Equatable {
    /// Position in the journal: unique, increasing in arrival order, stable across restarts.
    public var sequence: UInt64
    /// Identity of the logical event, derived only from the signed body (`EventIdentity` in VippsWebhooks): the
    /// ePayment business key's hash, else the hex SHA-256 of the body. Deduplication is on this id.
    public var id: String
    /// Event type string (e.g. `epayments.payment.captured.v1`), or `unknown`.
    public var type: String
    /// Path of the endpoint that received it (e.g. `/vipps/epayment`).
    public var endpoint: String
    /// When the daemon received it, in milliseconds since 1970-01-01T00:00:00Z.
    public var receivedAtMillis: Int64
    /// The request body exactly as received.
    public var body: [UInt8]
    /// The request's `webhook-id` header, for correlation with the vendor only (it is not signed); nil when absent.
    public var webhookID: String?
    /// How the event arrived.
    public var source: EventSource
    /// The id an earlier version gave this event (its `webhook-id`, else its body hash), when it was journaled by a
    /// version that did not derive ids from signed content; nil otherwise. Never written to the journal.
    public var legacyID: String?

    /// Creates an event record.
    public init(
        sequence: UInt64,
        id: String,
        type: String,
        endpoint: String,
        receivedAtMillis: Int64,
        body: [UInt8],
        webhookID: String? = nil,
        source: EventSource = .webhook,
        legacyID: String? = nil
    ) {
        self.sequence = sequence
        self.id = id
        self.type = type
        self.endpoint = endpoint
        self.receivedAtMillis = receivedAtMillis
        self.body = body
        self.webhookID = webhookID
        self.source = source
        self.legacyID = legacyID
    }
}
