/// One authentic event as the journal keeps it and the sinks receive it.
///
/// The body is kept byte for byte as received: it is what the signature covered and what the file sink writes.
public struct StoredEvent: Sendable, Equatable {
    /// The fields other than the two numbers, in one immutable heap object: an event is copied into the store's
    /// batch, its completion, the dispatcher and each sink worker, and a copy then costs one reference count instead
    /// of one for each of its strings and its body (six). A setter replaces the object.
    private final class Texts: Sendable, Equatable {
        let id: String
        let type: String
        let endpoint: String
        let body: [UInt8]
        let webhookID: String?
        let source: EventSource
        let legacyID: String?

        init(
            id: String,
            type: String,
            endpoint: String,
            body: [UInt8],
            webhookID: String?,
            source: EventSource,
            legacyID: String?
        ) {
            self.id = id
            self.type = type
            self.endpoint = endpoint
            self.body = body
            self.webhookID = webhookID
            self.source = source
            self.legacyID = legacyID
        }

        /// A copy with `change` applied to its fields.
        func with(_ change: (inout Fields) -> Void) -> Texts {
            var fields = Fields(
                id: id,
                type: type,
                endpoint: endpoint,
                body: body,
                webhookID: webhookID,
                source: source,
                legacyID: legacyID
            )
            change(&fields)
            return Texts(
                id: fields.id,
                type: fields.type,
                endpoint: fields.endpoint,
                body: fields.body,
                webhookID: fields.webhookID,
                source: fields.source,
                legacyID: fields.legacyID
            )
        }

        static func == (left: Texts, right: Texts) -> Bool {
            left === right
                || (left.id == right.id && left.type == right.type && left.endpoint == right.endpoint
                    && left.body == right.body && left.webhookID == right.webhookID && left.source == right.source
                    && left.legacyID == right.legacyID)
        }
    }

    /// The fields of ``Texts``, to change one.
    private struct Fields {
        var id: String
        var type: String
        var endpoint: String
        var body: [UInt8]
        var webhookID: String?
        var source: EventSource
        var legacyID: String?
    }

    private var texts: Texts

    /// Position in the journal: unique, increasing in arrival order, stable across restarts.
    public var sequence: UInt64
    /// When the daemon received it, in milliseconds since 1970-01-01T00:00:00Z.
    public var receivedAtMillis: Int64
    /// Identity of the logical event, derived only from the signed body (`EventIdentity` in VippsWebhooks): the
    /// ePayment business key's hash, else the hex SHA-256 of the body. Deduplication is on this id.
    public var id: String {
        get { texts.id }
        set { texts = texts.with { $0.id = newValue } }
    }
    /// Event type string (e.g. `epayments.payment.captured.v1`), or `unknown`.
    public var type: String {
        get { texts.type }
        set { texts = texts.with { $0.type = newValue } }
    }
    /// Path of the endpoint that received it (e.g. `/vipps/epayment`).
    public var endpoint: String {
        get { texts.endpoint }
        set { texts = texts.with { $0.endpoint = newValue } }
    }
    /// The request body exactly as received.
    public var body: [UInt8] {
        get { texts.body }
        set { texts = texts.with { $0.body = newValue } }
    }
    /// The request's `webhook-id` header, for correlation with the vendor only (it is not signed); nil when absent.
    public var webhookID: String? {
        get { texts.webhookID }
        set { texts = texts.with { $0.webhookID = newValue } }
    }
    /// How the event arrived.
    public var source: EventSource {
        get { texts.source }
        set { texts = texts.with { $0.source = newValue } }
    }
    /// The id an earlier version gave this event (its `webhook-id`, else its body hash), when it was journaled by a
    /// version that did not derive ids from signed content; nil otherwise. Never written to the journal.
    public var legacyID: String? {
        get { texts.legacyID }
        set { texts = texts.with { $0.legacyID = newValue } }
    }

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
        self.receivedAtMillis = receivedAtMillis
        texts = Texts(
            id: id,
            type: type,
            endpoint: endpoint,
            body: body,
            webhookID: webhookID,
            source: source,
            legacyID: legacyID
        )
    }
}
