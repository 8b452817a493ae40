/// The `Authorization` header of a Vipps webhook:
/// `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>`.
public struct AuthorizationHeader: Sendable, Equatable {
    /// The scheme word.
    public static let scheme = "HMAC-SHA256"
    /// The only signed-header list Vipps uses, in its order.
    public static let signedHeaders = "x-ms-date;host;x-ms-content-sha256"

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
        let trimmed = value.trimmingASCIIWhitespace()
        guard let space = trimmed.firstIndex(of: " "),
            trimmed[..<space].lowercased() == AuthorizationHeader.scheme.lowercased()
        else { return nil }
        var signedHeaders: Substring?
        var signature: Substring?
        for part in trimmed[space...].trimmingASCIIWhitespace().split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = part.firstIndex(of: "=") else { return nil }
            let name = part[..<equals].lowercased()
            let partValue = part[part.index(after: equals)...]
            switch name {
            case "signedheaders" where signedHeaders == nil: signedHeaders = partValue
            case "signature" where signature == nil: signature = partValue
            default: return nil
            }
        }
        guard let signedHeaders, signedHeaders.lowercased() == AuthorizationHeader.signedHeaders,
            let signature, signature.utf8.count == 44, signature.hasSuffix("="),
            signature.utf8.dropLast().allSatisfy(AuthorizationHeader.isBase64Character)
        else { return nil }
        self.signature = String(signature)
    }

    /// The header value.
    public var value: String {
        "\(AuthorizationHeader.scheme) SignedHeaders=\(AuthorizationHeader.signedHeaders)&Signature=\(signature)"
    }

    private static func isBase64Character(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
    }
}
