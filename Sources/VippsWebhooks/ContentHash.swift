import VippsCrypto

/// The `x-ms-content-sha256` value: standard base64 of SHA-256 over the raw body bytes as received.
public enum ContentHash {
    /// Content hash of `body`, never of a re-serialised form of it.
    public static func of(_ body: some Collection<UInt8>) -> String {
        Digest.sha256Base64(body)
    }
}
