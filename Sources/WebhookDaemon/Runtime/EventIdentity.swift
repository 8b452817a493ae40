import VippsCrypto

/// The stable id of one logical event (DESIGN.md): the `webhook-id` header when present, else the hex SHA-256 of the
/// body. Redeliveries keep both the body bytes and the `webhook-id`, so either way a retry maps to the same id.
enum EventIdentity {
    /// Longest `webhook-id` taken as given; vendor ids are UUIDs (36 characters).
    static let maxHeaderLength = 200

    /// The id for a request, and whether a present `webhook-id` header was unusable (then the body hash is used).
    static func id(webhookID: String?, body: [UInt8]) -> (id: String, rejectedHeader: Bool) {
        if let webhookID {
            let bytes = webhookID.utf8
            if (1...maxHeaderLength).contains(bytes.count), bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                return (webhookID, false)
            }
            return (Digest.hex(Digest.sha256(body)), true)
        }
        return (Digest.hex(Digest.sha256(body)), false)
    }
}
