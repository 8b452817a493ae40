import COpenSSL

/// An HMAC-SHA256 key prepared once (OpenSSL computes the key schedule at creation) and used for many messages,
/// from any number of threads at once.
public final class HMACKey: Sendable {
    // Only read after init (each use duplicates it), so sharing across threads is safe.
    private nonisolated(unsafe) let context: OpaquePointer

    /// Prepares `key` (its bytes are used as given).
    public init(_ key: some Collection<UInt8>) {
        let created = withContiguous(key) { vipps_hmac_sha256_key_new($0.baseAddress, $0.count) }
        guard let created else { preconditionFailure("EVP_MAC_init(HMAC-SHA256) failed") }
        context = created
    }

    deinit {
        EVP_MAC_CTX_free(context)
    }

    /// HMAC-SHA256 of `message` under this key.
    public func authenticationCode(for message: some Collection<UInt8>) -> [UInt8] {
        withContiguous(message) { buffer in
            [UInt8](unsafeUninitializedCapacity: Digest.byteCount) { out, count in
                let ok = vipps_hmac_sha256_keyed(context, buffer.baseAddress, buffer.count, out.baseAddress)
                precondition(ok == 1, "HMAC(SHA-256) failed")
                count = Digest.byteCount
            }
        }
    }
}
