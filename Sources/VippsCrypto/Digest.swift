import COpenSSL

/// SHA-256 and HMAC-SHA256 over raw bytes, computed by OpenSSL's libcrypto.
public enum Digest {
    /// Byte length of a SHA-256 digest.
    public static let byteCount = 32

    /// SHA-256, fetched from OpenSSL's default provider once for the process.
    private nonisolated(unsafe) static let sha256Algorithm: OpaquePointer = {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { preconditionFailure("EVP_MD_fetch(SHA256) failed") }
        return md
    }()

    /// Digest contexts for ``sha256(_:)``, each used by one thread at a time.
    private static let sha256Contexts = ContextPool(
        make: { EVP_MD_CTX_new() },
        free: { EVP_MD_CTX_free($0) }
    )

    /// SHA-256 of `bytes`.
    /// - Parameter bytes: the data to hash, e.g. a request body exactly as received.
    /// - Returns: the 32-byte digest.
    ///
    /// Inlined into the caller, so the bytes are reached without generic dispatch; the hashing itself is
    /// ``sha256(buffer:)``. The same holds for ``sha256Hex(_:)``, ``sha256Base64(_:)``, ``hex(_:)`` and ``HMACKey``'s
    /// message entry points.
    @inlinable
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        withContiguous(bytes, sha256(buffer:))
    }

    /// SHA-256 of the bytes in `buffer`.
    @usableFromInline
    static func sha256(buffer: UnsafeRawBufferPointer) -> [UInt8] {
        self.bytes { sha256(buffer, into: $0) }
    }

    /// Lower-case hexadecimal text of the SHA-256 of `bytes` (the digest itself is never put in an array).
    @inlinable
    public static func sha256Hex(_ bytes: some Collection<UInt8>) -> String {
        withContiguous(bytes, sha256Hex(buffer:))
    }

    /// ``sha256Hex(_:)`` of the bytes in `buffer`.
    @usableFromInline
    static func sha256Hex(buffer: UnsafeRawBufferPointer) -> String {
        text({ sha256(buffer, into: $0) }, encodedBy: hex(buffer:))
    }

    /// Standard base64 of the SHA-256 of `bytes` (an `x-ms-content-sha256` value; the digest is never put in an
    /// array).
    @inlinable
    public static func sha256Base64(_ bytes: some Collection<UInt8>) -> String {
        withContiguous(bytes, sha256Base64(buffer:))
    }

    /// ``sha256Base64(_:)`` of the bytes in `buffer`.
    @usableFromInline
    static func sha256Base64(buffer: UnsafeRawBufferPointer) -> String {
        text({ sha256(buffer, into: $0) }, encodedBy: Base64.encode(buffer:))
    }

    /// The ``byteCount`` bytes of a digest or MAC that `write` puts at the pointer it is given.
    static func bytes(_ write: (UnsafeMutablePointer<UInt8>) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
            write(out.baseAddress!)
            count = byteCount
        }
    }

    /// The text `encode` makes of a digest or MAC that `write` puts in a temporary buffer of ``byteCount`` bytes
    /// (on the stack, never in an array).
    static func text(
        _ write: (UnsafeMutablePointer<UInt8>) -> Void,
        encodedBy encode: (UnsafeRawBufferPointer) -> String
    ) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCount) { buffer in
            write(buffer.baseAddress!)
            return encode(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Writes the SHA-256 of the bytes in `buffer` to the ``byteCount`` bytes at `out`.
    private static func sha256(_ buffer: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        sha256Contexts.withContext { context in
            let ok = vipps_sha256(context, sha256Algorithm, buffer.baseAddress, buffer.count, out)
            precondition(ok == 1, "SHA-256 failed")
        }
    }

    /// HMAC-SHA256 of `message` under `key`, for one-off use; prepare an `HMACKey` to reuse a key.
    /// - Parameters:
    ///   - key: the key bytes, used as given (no decoding).
    ///   - message: the data to authenticate.
    /// - Returns: the 32-byte MAC.
    public static func hmacSHA256(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        HMACKey(key).authenticationCode(for: message)
    }

    /// Lower-case hexadecimal text of `bytes`.
    @inlinable
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        withContiguous(bytes, hex(buffer:))
    }

    /// Lower-case hexadecimal text of the bytes in `buffer`.
    @usableFromInline
    static func hex(buffer: UnsafeRawBufferPointer) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: buffer.count * 2) { out in
            for (offset, byte) in buffer.enumerated() {
                out[2 * offset] = digits.utf8Start[Int(byte >> 4)]
                out[2 * offset + 1] = digits.utf8Start[Int(byte & 0x0F)]
            }
            return buffer.count * 2
        }
    }
}

/// Runs `body` with a contiguous buffer of `bytes`, copying only when the collection has no contiguous storage.
@inlinable
func withContiguous<R>(_ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let result = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    return Array(bytes).withUnsafeBytes(body)
}
