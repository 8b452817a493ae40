import COpenSSL

/// Random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    /// `count` cryptographically secure random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0)
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            if count > 0 {
                precondition(vipps_random_bytes(out.baseAddress, count) == 1, "RAND_bytes failed")
            }
            initialized = count
        }
    }
}
