/// One authentic event as the journal keeps it and the sinks receive it.
///
/// The body is kept byte for byte as received: it is what the signature covered and what the file sink writes.
public struct StoredEvent: Sendable, Equatable {
    /// The fields other than the two numbers.
    private struct Texts: Sendable, Equatable {
        var id: String
        var type: String
        var endpoint: String
        var body: [UInt8]
        var webhookID: String?
        var source: EventSource
        var legacyID: String?
    }

    /// ``Texts`` in one immutable heap object: an event is copied into the store's batch, its completion, the
    /// dispatcher and each sink worker, and a copy then costs one reference count instead of one for each of its
    /// strings and its body (six). A setter replaces the object.
    private final class Shared: Sendable {
        let texts: Texts
        init(_ texts: Texts) { self.texts = texts }
    }

    private var shared: Shared

    /// Position in the journal: unique, increasing in arrival order, stable across restarts.
    public var sequence: UInt64
    /// When the daemon received it, in milliseconds since 1970-01-01T00:00:00Z.
    public var receivedAtMillis: Int64
    /// Identity of the logical event, derived only from the signed body (`EventIdentity` in VippsWebhooks): the
    /// ePayment business key's hash, else the hex SHA-256 of the body. Deduplication is on this id.
    public var id: String {
        get { shared.texts.id }
        set { change { $0.id = newValue } }
    }
    /// Event type string (e.g. `epayments.payment.captured.v1`), or `unknown`.
    public var type: String {
        get { shared.texts.type }
        set { change { $0.type = newValue } }
    }
    /// Path of the endpoint that received it (e.g. `/vipps/epayment`).
    public var endpoint: String {
        get { shared.texts.endpoint }
        set { change { $0.endpoint = newValue } }
    }
    /// The request body exactly as received.
    public var body: [UInt8] {
        get { shared.texts.body }
        set { change { $0.body = newValue } }
    }
    /// The request's `webhook-id` header, for correlation with the vendor only (it is not signed); nil when absent.
    public var webhookID: String? {
        get { shared.texts.webhookID }
        set { change { $0.webhookID = newValue } }
    }
    /// How the event arrived.
    public var source: EventSource {
        get { shared.texts.source }
        set { change { $0.source = newValue } }
    }
    /// The id an earlier version gave this event (its `webhook-id`, else its body hash), when it was journaled by a
    /// version that did not derive ids from signed content; nil otherwise. Never written to the journal.
    public var legacyID: String? {
        get { shared.texts.legacyID }
        set { change { $0.legacyID = newValue } }
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
        shared = Shared(
            Texts(
                id: id,
                type: type,
                endpoint: endpoint,
                body: body,
                webhookID: webhookID,
                source: source,
                legacyID: legacyID
            )
        )
    }

    /// Whether every field is equal (the texts at once when both are copies of one event).
    public static func == (left: StoredEvent, right: StoredEvent) -> Bool {
        left.sequence == right.sequence && left.receivedAtMillis == right.receivedAtMillis
            && (left.shared === right.shared || left.shared.texts == right.shared.texts)
    }

    /// Replaces the shared texts with a copy changed by `body`.
    private mutating func change(_ body: (inout Texts) -> Void) {
        var texts = shared.texts
        body(&texts)
        shared = Shared(texts)
    }
}
