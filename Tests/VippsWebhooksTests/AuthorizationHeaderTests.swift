import Testing

@testable import VippsWebhooks

/// The `Authorization` header's exact form: what is accepted, and the near misses that are not.
@Suite struct AuthorizationHeaderTests {
    static let signature = String(String(repeating: "aB3+/Zz9", count: 6).prefix(43)) + "="
    static let signedHeaders = "x-ms-date;host;x-ms-content-sha256"

    @Test(
        "accepted: names and scheme in any case, the parts in either order, blanks around the value",
        arguments: [
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=\(signature)",
            "hmac-sha256 signedheaders=X-MS-DATE;HOST;X-MS-CONTENT-SHA256&SIGNATURE=\(signature)",
            "HMAC-SHA256 Signature=\(signature)&SignedHeaders=\(signedHeaders)",
            " \tHMAC-SHA256 \t SignedHeaders=\(signedHeaders)&Signature=\(signature)\t ",
        ]
    )
    func accepted(value: String) {
        #expect(AuthorizationHeader(parsing: value)?.signature == Self.signature)
    }

    @Test(
        "refused: anything but exactly the Vipps form",
        arguments: [
            "",
            "HMAC-SHA256",
            "HMAC-SHA256 Signature=\(signature)",
            "HMAC-SHA1 SignedHeaders=\(signedHeaders)&Signature=\(signature)",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=\(signature)&",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&&Signature=\(signature)",
            "HMAC-SHA256 SignedHeaders=host&SignedHeaders=\(signedHeaders)&Signature=\(signature)",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=\(signature)&Signature=\(signature)",
            "HMAC-SHA256 SignedHeaders=host;x-ms-date;x-ms-content-sha256&Signature=\(signature)",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=\(signature.dropLast())",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=\(signature)=",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=@\(signature.dropFirst())",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=[\(signature.dropFirst())",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=`\(signature.dropFirst())",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=ø\(signature.dropFirst(2))",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature=\(signature.dropLast())A",
            "HMAC-SHA256 SignedHeaders=\(signedHeaders)&Signature",
        ]
    )
    func refused(value: String) {
        #expect(AuthorizationHeader(parsing: value) == nil)
    }
}
