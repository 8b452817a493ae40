import Foundation

/// The vendor-facing signature test vectors (copied from shared/spec/signature-vectors.json into Fixtures/).
public struct SignatureVector: Decodable, Sendable, CustomStringConvertible {
    /// The vector's name.
    public var name: String
    /// The URL registered with the vendor (what is signed).
    public var registeredUrl: String
    /// The webhook secret.
    public var secret: String
    /// The request method.
    public var method: String
    /// The signed path and query.
    public var pathAndQuery: String
    /// The signed host (with a port when not the default).
    public var host: String
    /// The `x-ms-date` value.
    public var date: String
    /// The request body.
    public var body: String
    /// The expected `x-ms-content-sha256` (base64 SHA-256 of the body).
    public var expectedContentHash: String
    /// The expected base64 HMAC-SHA256 of ``stringToSign``.
    public var expectedSignature: String
    /// The expected string to sign.
    public var stringToSign: String
    /// The expected `Authorization` value.
    public var expectedAuthorization: String

    /// The body as UTF-8 bytes.
    public var bodyBytes: [UInt8] { Array(body.utf8) }

    /// The vector's name (so that Swift Testing shows a parameterized test's vector by it).
    public var description: String { name }

    /// Every vector of Fixtures/signature-vectors.json.
    public static let all: [SignatureVector] = {
        struct File: Decodable { var vectors: [SignatureVector] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/signature-vectors.json")
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode(File.self, from: data).vectors
    }()

    /// The vector called `name`.
    public static func named(_ name: String) -> SignatureVector {
        all.first { $0.name == name }!
    }
}
