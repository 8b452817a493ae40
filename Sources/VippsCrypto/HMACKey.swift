import COpenSSL

/// An HMAC-SHA256 key prepared once (OpenSSL computes the key schedule at creation) and used for many messages,
/// from any number of threads at once.
public final class HMACKey: Sendable {
    /// The keyed template: only read after init (each pooled context is a copy of it).
    private nonisolated(unsafe) let template: OpaquePointer
    /// Copies of `template`, each started over for the next message.
    private let contexts: ContextPool

    /// Prepares `key` (its bytes are used as given).
    public init(_ key: some Collection<UInt8>) {
        let created = withContiguous(key) { vipps_hmac_sha256_key_new($0.baseAddress, $0.count) }
        guard let created else { preconditionFailure("EVP_MAC_init(HMAC-SHA256) failed") }
        template = created
        let address = UInt(bitPattern: created)
        contexts = ContextPool(
            make: { vipps_hmac_sha256_copy(OpaquePointer(bitPattern: address)) },
            free: { EVP_MAC_CTX_free($0) }
        )
    }

    deinit {
        EVP_MAC_CTX_free(template)
    }

    /// HMAC-SHA256 of `message` under this key.
    @inlinable
    public func authenticationCode(for message: some Collection<UInt8>) -> [UInt8] {
        withContiguous(message, authenticationCode(forBuffer:))
    }

    /// ``authenticationCode(for:)`` of the bytes in `buffer`.
    @usableFromInline
    func authenticationCode(forBuffer buffer: UnsafeRawBufferPointer) -> [UInt8] {
        Digest.bytes { authenticationCode(for: buffer, into: $0) }
    }

    /// Standard base64 of the HMAC-SHA256 of `message` under this key (a signature as the headers carry it; the MAC
    /// is never put in an array).
    @inlinable
    public func base64AuthenticationCode(for message: some Collection<UInt8>) -> String {
        withContiguous(message, base64AuthenticationCode(forBuffer:))
    }

    /// ``base64AuthenticationCode(for:)`` of the bytes in `buffer`.
    @usableFromInline
    func base64AuthenticationCode(forBuffer buffer: UnsafeRawBufferPointer) -> String {
        Digest.text({ authenticationCode(for: buffer, into: $0) }, encodedBy: Base64.encode(buffer:))
    }

    /// Writes the HMAC-SHA256 of the bytes in `buffer` to the `Digest.byteCount` bytes at `out`.
    private func authenticationCode(for buffer: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        contexts.withContext { context in
            let ok = vipps_hmac_sha256(context, buffer.baseAddress, buffer.count, out)
            precondition(ok == 1, "HMAC(SHA-256) failed")
        }
    }
}
