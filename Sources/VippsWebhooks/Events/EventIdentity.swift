import VippsCrypto

/// The identity of one logical event, derived only from what the signature covers: the body (signed through
/// `x-ms-content-sha256`). Never from an unsigned header such as `webhook-id`.
///
/// - Events with a business key (ePayment: ``EPaymentBusinessKey``) get an id derived from that key, so the same
///   event has the same id however it arrived: a vendor retry, a second registration (secret rotation, URL
///   replacement), or the payment's event log fetched later, whatever the key order or whitespace of the body.
/// - Every other body gets the lowercase hex SHA-256 of its bytes (``bodyHash(_:)``).
public enum EventIdentity {
    /// The id of the event whose body is `body`.
    /// - Parameters:
    ///   - body: The request body exactly as received.
    ///   - decoded: `DecodedEvent.decode(body: body)`.
    public static func id(body: some Collection<UInt8>, decoded: DecodedEvent) -> String {
        id(body: body, businessKey: EPaymentBusinessKey(decoded))
    }

    /// The id of the event whose body is `body` and whose business key is `businessKey`, for a caller that needs
    /// the key too (and so derives it once).
    /// - Parameters:
    ///   - body: The request body exactly as received.
    ///   - businessKey: `EPaymentBusinessKey(DecodedEvent.decode(body: body))`.
    public static func id(body: some Collection<UInt8>, businessKey: EPaymentBusinessKey?) -> String {
        businessKey?.id ?? bodyHash(body)
    }

    /// The lowercase hex SHA-256 of `body`.
    public static func bodyHash(_ body: some Collection<UInt8>) -> String {
        Digest.sha256Hex(body)
    }
}
