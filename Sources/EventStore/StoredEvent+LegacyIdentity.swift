import VippsWebhooks

extension StoredEvent {
    /// The ids a file-sink line of this event can start with: its id, and its ``legacyID`` for a line written by an
    /// earlier version before a crash that lost the delivered mark.
    public var lineIDs: [String] {
        legacyID.map { [id, $0] } ?? [id]
    }

    /// An event read from a record written by a version whose id was the `webhook-id` header (or, without one, the
    /// body hash): its id is derived anew from the body, its `webhook_id` is the old id unless that was the body
    /// hash, and the old id is kept as ``legacyID`` (for deduplication against the old dedup state).
    public static func migratingLegacy(
        sequence: UInt64,
        legacyID: String,
        type: String,
        endpoint: String,
        receivedAtMillis: Int64,
        body: [UInt8]
    ) -> StoredEvent {
        let bodyHash = EventIdentity.bodyHash(body)
        let id = EPaymentBusinessKey(DecodedEvent.decode(body: body))?.id ?? bodyHash
        return StoredEvent(
            sequence: sequence,
            id: id,
            type: type,
            endpoint: endpoint,
            receivedAtMillis: receivedAtMillis,
            body: body,
            webhookID: legacyID == bodyHash ? nil : legacyID,
            source: .webhook,
            legacyID: legacyID
        )
    }
}
