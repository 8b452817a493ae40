import HTTP1

/// The `Authorization` header of a Vipps webhook:
/// `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>`.
public struct AuthorizationHeader: Sendable, Equatable {
    /// The scheme word.
    public static let scheme = "HMAC-SHA256"
    /// The only signed-header list Vipps uses, in its order.
    public static let signedHeaders = "x-ms-date;host;x-ms-content-sha256"
    private static let lowercaseScheme = Array("hmac-sha256".utf8)
    private static let signedHeadersName = Array("signedheaders".utf8)
    private static let signatureName = Array("signature".utf8)
    private static let signedHeadersValue = Array(signedHeaders.utf8)

    /// The base64 signature.
    public var signature: String

    /// A header carrying `signature`.
    public init(signature: String) {
        self.signature = signature
    }

    /// Parses a header value; `nil` when it is not exactly the Vipps form.
    ///
    /// The scheme and the `SignedHeaders`/`Signature` names are matched case-insensitively, the parts may come in
    /// either order, and the signature must look like standard base64 of 32 bytes.
    public init?(parsing value: String) {
        // Over the string's own UTF-8 in place (a copy into an array cost an allocation a request).
        guard let parsed = value.withUTF8Bytes(Self.signature(parsing:)) else { return nil }
        signature = parsed
    }

    /// The signature of the header value `value`, or nil when it is not exactly the Vipps form.
    private static func signature(parsing value: UnsafeBufferPointer<UInt8>) -> String? {
        let bytes = ASCII.trimmed(value[...])
        guard let space = bytes.firstIndex(of: 0x20),
            ASCII.equalsIgnoringCase(bytes[..<space], lowercaseScheme)
        else { return nil }
        var signedHeaders: Slice<UnsafeBufferPointer<UInt8>>?
        var signature: Slice<UnsafeBufferPointer<UInt8>>?
        var rest = ASCII.trimmed(bytes[space...])
        while true {
            let end = rest.firstIndex(of: UInt8(ascii: "&")) ?? rest.endIndex
            let part = rest[..<end]
            guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let name = part[..<equals]
            let partValue = part[(equals + 1)...]
            if signedHeaders == nil, ASCII.equalsIgnoringCase(name, signedHeadersName) {
                signedHeaders = partValue
            } else if signature == nil, ASCII.equalsIgnoringCase(name, signatureName) {
                signature = partValue
            } else {
                return nil
            }
            guard end < rest.endIndex else { break }
            rest = rest[(end + 1)...]
        }
        guard let signedHeaders, ASCII.equalsIgnoringCase(signedHeaders, signedHeadersValue),
            let signature, signature.count == 44, signature.last == UInt8(ascii: "="),
            signature.dropLast().allSatisfy(isBase64Character)
        else { return nil }
        return String(decoding: signature, as: UTF8.self)
    }

    /// The header value.
    public var value: String {
        "\(AuthorizationHeader.scheme) SignedHeaders=\(AuthorizationHeader.signedHeaders)&Signature=\(signature)"
    }

    /// A letter, a digit, `+` or `/`.
    private static func isBase64Character(_ byte: UInt8) -> Bool {
        let letter = byte | 0x20  // ASCII lower case for letters; no other byte lands in a...z
        return (letter >= UInt8(ascii: "a") && letter <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "/")
    }
}
