/// One authentic event as the journal keeps it and the sinks receive it.
///
/// The body is kept byte for byte as received: it is what the signature covered and what the file sink writes.
public struct StoredEvent: Sendable, Equatable {
    /// Position in the journal: unique, increasing in arrival order, stable across restarts.
    public var sequence: UInt64
    /// Stable id of the logical event: the `webhook-id` header when present, else the hex SHA-256 of the body.
    public var id: String
    /// Event type string (e.g. `epayments.payment.captured.v1`), or `unknown`.
    public var type: String
    /// Path of the endpoint that received it (e.g. `/vipps/epayment`).
    public var endpoint: String
    /// When the daemon received it, in milliseconds since 1970-01-01T00:00:00Z.
    public var receivedAtMillis: Int64
    /// The request body exactly as received.
    public var body: [UInt8]

    /// Creates an event record.
    public init(sequence: UInt64, id: String, type: String, endpoint: String, receivedAtMillis: Int64, body: [UInt8]) {
        self.sequence = sequence
        self.id = id
        self.type = type
        self.endpoint = endpoint
        self.receivedAtMillis = receivedAtMillis
        self.body = body
    }
}
