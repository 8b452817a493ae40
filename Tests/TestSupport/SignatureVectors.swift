import Foundation

/// The vendor-facing signature test vectors (copied from shared/spec/signature-vectors.json into Fixtures/).
public struct SignatureVector: Decodable, Sendable, CustomStringConvertible {
    public var name: String
    public var registeredUrl: String
    public var secret: String
    public var method: String
    public var pathAndQuery: String
    public var host: String
    public var date: String
    public var body: String
    public var expectedContentHash: String
    public var expectedSignature: String
    public var stringToSign: String
    public var expectedAuthorization: String

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
