import COpenSSL

/// Comparisons whose running time does not depend on where two secrets differ.
public enum ConstantTime {
    /// Whether the UTF-8 bytes of `a` and `b` are the same, compared with `CRYPTO_memcmp`.
    ///
    /// Lengths are not secret here (both sides are fixed-size digests or their base64 text); unequal lengths return
    /// `false` at once.
    public static func equal(_ a: String, _ b: String) -> Bool {
        // The strings' own UTF-8 buffers: the generic form below runs unspecialised from other modules.
        var a = a
        var b = b
        return a.withUTF8 { aBuffer in b.withUTF8 { bBuffer in equal(aBuffer, bBuffer) } }
    }

    /// Whether `a` and `b` hold the same bytes, compared with `CRYPTO_memcmp` (lengths as for strings).
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return withContiguous(a) { aBuffer in
            withContiguous(b) { bBuffer in
                vipps_memcmp_consttime(aBuffer.baseAddress, bBuffer.baseAddress, aBuffer.count) == 0
            }
        }
    }
}
