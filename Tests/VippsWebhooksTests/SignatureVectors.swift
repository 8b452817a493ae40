import Foundation

/// The vendor-facing signature test vectors (copied from shared/spec/signature-vectors.json into Fixtures/).
struct SignatureVector: Decodable, CustomTestStringConvertibleShim {
    var name: String
    var registeredUrl: String
    var secret: String
    var method: String
    var pathAndQuery: String
    var host: String
    var date: String
    var body: String
    var expectedContentHash: String
    var expectedSignature: String
    var stringToSign: String
    var expectedAuthorization: String

    var bodyBytes: [UInt8] { Array(body.utf8) }

    static let all: [SignatureVector] = {
        struct File: Decodable { var vectors: [SignatureVector] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/signature-vectors.json")
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode(File.self, from: data).vectors
    }()

    static func named(_ name: String) -> SignatureVector {
        all.first { $0.name == name }!
    }
}

/// Lets Swift Testing show a vector by its name in parameterized test output.
protocol CustomTestStringConvertibleShim: CustomStringConvertible { var name: String { get } }
extension CustomTestStringConvertibleShim { var description: String { name } }
