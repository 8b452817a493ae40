import VippsCrypto

/// The 16-byte fingerprint of an event id kept by the dedup index: the first 128 bits of SHA-256 of the id's UTF-8.
///
/// Fixed size keeps the index bounded whatever the ids look like; a collision between two distinct ids is
/// negligible (2^-64 after 2^32 ids).
struct DedupKey: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    /// The fingerprint of `id`.
    init(id: String) {
        let digest = Digest.sha256(id.utf8)
        self.init(
            high: digest[0..<8].reduce(0) { ($0 << 8) | UInt64($1) },
            low: digest[8..<16].reduce(0) { ($0 << 8) | UInt64($1) }
        )
    }

    /// A fingerprint from its two halves (as stored in the dedup file).
    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}
