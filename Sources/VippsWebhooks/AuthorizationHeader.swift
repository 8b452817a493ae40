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
        let bytes = ASCII.trimmed(Array(value.utf8)[...])
        guard let space = bytes.firstIndex(of: 0x20),
            ASCII.equalsIgnoringCase(bytes[..<space], AuthorizationHeader.lowercaseScheme)
        else { return nil }
        var signedHeaders: ArraySlice<UInt8>?
        var signature: ArraySlice<UInt8>?
        var rest = ASCII.trimmed(bytes[space...])
        while true {
            let end = rest.firstIndex(of: UInt8(ascii: "&")) ?? rest.endIndex
            let part = rest[..<end]
            guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let name = part[..<equals]
            let partValue = part[(equals + 1)...]
            if signedHeaders == nil, ASCII.equalsIgnoringCase(name, AuthorizationHeader.signedHeadersName) {
                signedHeaders = partValue
            } else if signature == nil, ASCII.equalsIgnoringCase(name, AuthorizationHeader.signatureName) {
                signature = partValue
            } else {
                return nil
            }
            guard end < rest.endIndex else { break }
            rest = rest[(end + 1)...]
        }
        guard let signedHeaders, ASCII.equalsIgnoringCase(signedHeaders, AuthorizationHeader.signedHeadersValue),
            let signature, signature.count == 44, signature.last == UInt8(ascii: "="),
            signature.dropLast().allSatisfy(AuthorizationHeader.isBase64Character)
        else { return nil }
        self.signature = String(decoding: signature, as: UTF8.self)
    }

    /// The header value.
    public var value: String {
        "\(AuthorizationHeader.scheme) SignedHeaders=\(AuthorizationHeader.signedHeaders)&Signature=\(signature)"
    }

    private static func isBase64Character(_ byte: UInt8) -> Bool {
        ASCII.isLetterOrDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
    }
}
