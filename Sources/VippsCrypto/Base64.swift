/// Standard base64 (RFC 4648 §4, with `=` padding), as used by the Vipps signature headers.
public enum Base64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )

    /// Base64 text of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        withContiguous(bytes, encode(buffer:))
    }

    /// Base64 text of `bytes` (digests): compiled for arrays here, as the generic form runs unspecialised from
    /// other modules.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes(encode(buffer:))
    }

    /// Base64 text of the bytes in `input`.
    static func encode(buffer input: UnsafeRawBufferPointer) -> String {
        alphabet.withUnsafeBufferPointer { alphabet in
            let outCount = (input.count + 2) / 3 * 4
            return String(unsafeUninitializedCapacity: outCount) { out in
                var i = 0
                var o = 0
                while i + 3 <= input.count {
                    let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    out[o] = alphabet[Int(n >> 18 & 63)]
                    out[o + 1] = alphabet[Int(n >> 12 & 63)]
                    out[o + 2] = alphabet[Int(n >> 6 & 63)]
                    out[o + 3] = alphabet[Int(n & 63)]
                    i += 3
                    o += 4
                }
                let rest = input.count - i
                if rest > 0 {
                    var n = UInt32(input[i]) << 16
                    if rest == 2 { n |= UInt32(input[i + 1]) << 8 }
                    out[o] = alphabet[Int(n >> 18 & 63)]
                    out[o + 1] = alphabet[Int(n >> 12 & 63)]
                    out[o + 2] = rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                    o += 4
                }
                return o
            }
        }
    }
}
