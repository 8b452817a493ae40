import Foundation
import HTTP1
import TestSupport
import Testing
import VippsCrypto

@testable import VippsWebhooks

@Suite("Signature: vendor vectors, negatives, tampering")
struct SignatureTests {
    static let vectors = SignatureVector.all

    @Test("the fixture holds the four vendor vectors")
    func fixtureIsComplete() {
        #expect(Self.vectors.count == 4)
    }

    @Test("registered URL gives the vector's host and path+query", arguments: vectors)
    func targetFromRegisteredURL(vector: SignatureVector) throws {
        let target = try SignedTarget(url: vector.registeredUrl)
        #expect(target.host == vector.host)
        #expect(target.pathAndQuery == vector.pathAndQuery)
    }

    @Test("content hash, string to sign, signature and authorization match byte for byte", arguments: vectors)
    func signsLikeTheVector(vector: SignatureVector) throws {
        let target = try SignedTarget(url: vector.registeredUrl)
        #expect(ContentHash.of(vector.bodyBytes) == vector.expectedContentHash)
        let text = StringToSign.make(
            method: vector.method,
            target: target,
            date: vector.date,
            contentHash: vector.expectedContentHash
        )
        #expect(text == vector.stringToSign)
        let headers = RequestSigner.sign(
            secret: WebhookSecret(vector.secret),
            target: target,
            date: vector.date,
            body: vector.bodyBytes
        )
        #expect(headers.date == vector.date)
        #expect(headers.contentHash == vector.expectedContentHash)
        #expect(headers.authorization == vector.expectedAuthorization)
        #expect(AuthorizationHeader(parsing: vector.expectedAuthorization)?.signature == vector.expectedSignature)
    }

    @Test("every vector verifies as sent", arguments: vectors)
    func verifiesTheVector(vector: SignatureVector) throws {
        let result = verify(vector)
        #expect(result == .authentic(secretIndex: 0))
    }

    /// Also for a forged signature, a proxy's x-vipps-authorization, a second date and names in other cases.
    @Test("only the fields in headerNames decide: the verdict from them alone is the whole head's", arguments: vectors)
    func headerNamesAreAllTheVerifierReads(vector: SignatureVector) throws {
        let verifier = SignatureVerifier(secrets: [WebhookSecret(vector.secret)])
        let forged = AuthorizationHeader(signature: String(vector.expectedSignature.reversed())).value
        let heads: [[(name: String, value: String)]] = [
            headers(vector),
            headers(vector, authorization: forged),
            headers(vector, authorization: forged)
                + [(name: "X-Vipps-Authorization", value: vector.expectedAuthorization)],
            headers(vector) + [(name: "X-MS-DATE", value: "Mon, 01 Jan 2001 00:00:00 GMT")],
            headers(vector).map { (name: $0.name.uppercased(), value: $0.value) },
        ]
        for head in heads {
            let kept = head.filter { field in SignatureVerifier.headerNames.contains(field.name.lowercased()) }
            func verdict(_ fields: [(name: String, value: String)]) throws -> VerificationResult {
                verifier.verify(
                    method: "POST",
                    target: try SignedTarget(url: vector.registeredUrl),
                    headers: fields,
                    body: vector.bodyBytes,
                    now: HTTPDate.parse(vector.date)!
                )
            }
            #expect(try verdict(kept) == verdict(head), "\(head.map(\.name))")
        }
    }

    /// The daemon hands the verifier its parsed head; the verdict must be the one the same fields as strings get.
    @Test("a parsed head's fields give the verdict their string pairs give, field for field", arguments: vectors)
    func parsedHeadsVerifyAsTheirPairs(vector: SignatureVector) throws {
        let verifier = SignatureVerifier(secrets: [WebhookSecret("other"), WebhookSecret(vector.secret)])
        let forged = AuthorizationHeader(signature: String(vector.expectedSignature.reversed())).value
        let good = headers(vector)
        let heads: [[(name: String, value: String)]] = [
            good,
            headers(vector, authorization: forged),
            [(name: "x-vipps-authorization", value: vector.expectedAuthorization)]
                + headers(vector, authorization: forged),
            good + [(name: "X-MS-DATE", value: "Mon, 01 Jan 2001 00:00:00 GMT")],
            [(name: "x-ms-content-sha256", value: "AAAA")] + good,
            good.map { (name: $0.name.uppercased(), value: "  \($0.value) ") },
            good.filter { $0.name.lowercased() != "x-ms-date" },
            good.filter { $0.name.lowercased() != "authorization" },
            good.map { (name: $0.name + "x", value: $0.value) },
            good + [(name: "authorization", value: "")],
        ]
        for head in heads {
            let target = try SignedTarget(url: vector.registeredUrl)
            let now = HTTPDate.parse(vector.date)!
            let fromPairs = verifier.verify(
                method: "POST",
                target: target,
                headers: head,
                body: vector.bodyBytes,
                now: now
            )
            let fromHead = verifier.verify(
                method: "POST",
                target: target,
                headers: HTTPHeaders(head.map { ($0.name, $0.value) }),
                body: vector.bodyBytes,
                now: now
            )
            #expect(fromHead == fromPairs, "\(head.map(\.name))")
        }
    }

    @Test("secret used base64-decoded is wrong")
    func base64DecodedSecretIsRejected() throws {
        let vector = SignatureVector.named("non-ascii-utf8-body")
        let decoded = try #require(Data(base64Encoded: vector.secret))
        let forged = Base64.encode(
            Digest.hmacSHA256(key: Array(decoded), message: Array(vector.stringToSign.utf8))
        )
        #expect(forged != vector.expectedSignature)
        let verifier = SignatureVerifier(secrets: [WebhookSecret(vector.secret)])
        let result = verifier.verify(
            method: "POST",
            target: try SignedTarget(url: vector.registeredUrl),
            headers: headers(vector, authorization: AuthorizationHeader(signature: forged).value),
            body: vector.bodyBytes,
            now: HTTPDate.parse(vector.date)!
        )
        #expect(result == .rejected(.signatureMismatch))
    }

    @Test("string to sign joined with CRLF is wrong", arguments: vectors)
    func crlfIsRejected(vector: SignatureVector) throws {
        let crlf = vector.stringToSign.replacingOccurrences(of: "\n", with: "\r\n")
        let signature = RequestSigner.signature(secret: WebhookSecret(vector.secret), stringToSign: crlf)
        #expect(signature != vector.expectedSignature)
        let result = verify(vector, authorization: AuthorizationHeader(signature: signature).value)
        #expect(result == .rejected(.signatureMismatch))
    }

    @Test("a one-byte change in the body is rejected, wherever it is", arguments: vectors)
    func bodyTampering(vector: SignatureVector) throws {
        let body = vector.bodyBytes
        guard !body.isEmpty else {
            // Empty body: adding one byte is the one-byte change.
            #expect(verify(vector, body: [0x20]) == .rejected(.contentHashMismatch))
            return
        }
        for index in body.indices {
            var tampered = body
            tampered[index] ^= 0x01
            #expect(verify(vector, body: tampered) == .rejected(.contentHashMismatch), "byte \(index)")
        }
        // The attacker also recomputes the content hash: then the signature catches it.
        var tampered = body
        tampered[0] ^= 0x01
        let result = verify(vector, body: tampered, contentHash: ContentHash.of(tampered))
        #expect(result == .rejected(.signatureMismatch))
    }

    @Test("a one-byte change in date, host, path, query or secret is rejected", arguments: vectors)
    func contextTampering(vector: SignatureVector) throws {
        let target = try SignedTarget(url: vector.registeredUrl)
        let now = HTTPDate.parse(vector.date)!
        // Date: change one second (still a valid date inside the window).
        let otherDate = HTTPDate.format(secondsSince1970: now + 1)
        #expect(verify(vector, date: otherDate, now: now) == .rejected(.signatureMismatch))
        // Host and path+query: flip one character each.
        for (host, path) in [
            (flipLast(target.host), target.pathAndQuery),
            (target.host, flipLast(target.pathAndQuery)),
            (target.host, target.pathAndQuery + "x"),
        ] {
            let result = verify(vector, target: SignedTarget(host: host, pathAndQuery: path))
            #expect(result == .rejected(.signatureMismatch), "\(host)\(path)")
        }
        if target.pathAndQuery.contains("?") {
            let noQuery = String(target.pathAndQuery.prefix { $0 != "?" })
            #expect(
                verify(vector, target: SignedTarget(host: target.host, pathAndQuery: noQuery))
                    == .rejected(.signatureMismatch)
            )
        }
        // Secret: one byte different.
        let verifier = SignatureVerifier(secrets: [WebhookSecret(flipLast(vector.secret))])
        let result = verifier.verify(
            method: "POST",
            target: target,
            headers: headers(vector),
            body: vector.bodyBytes,
            now: now
        )
        #expect(result == .rejected(.signatureMismatch))
    }

    @Test("header names are case-insensitive; x-vipps-authorization stands in for authorization")
    func headerNames() throws {
        let vector = SignatureVector.named("query-string-guid-secret")
        let upper = headers(vector).map { (name: $0.name.uppercased(), value: $0.value) }
        #expect(verify(vector, headers: upper) == .authentic(secretIndex: 0))
        let vippsOnly = headers(vector).map {
            $0.name == "authorization" ? (name: "X-Vipps-Authorization", value: $0.value) : $0
        }
        #expect(verify(vector, headers: vippsOnly) == .authentic(secretIndex: 0))
        // A proxy that replaced Authorization with its own credentials: the Vipps copy still verifies.
        let replaced =
            headers(vector).map {
                $0.name == "authorization" ? (name: "Authorization", value: "Basic dXNlcjpwYXNz") : $0
            } + [(name: "x-vipps-authorization", value: vector.expectedAuthorization)]
        #expect(verify(vector, headers: replaced) == .authentic(secretIndex: 0))
    }

    @Test("missing and malformed headers are named")
    func missingHeaders() throws {
        let vector = SignatureVector.named("query-string-guid-secret")
        for (name, expected) in [
            ("x-ms-date", VerificationFailure.missingHeader("x-ms-date")),
            ("x-ms-content-sha256", .missingHeader("x-ms-content-sha256")),
            ("authorization", .missingHeader("authorization")),
        ] {
            let without = headers(vector).filter { $0.name != name }
            #expect(verify(vector, headers: without) == .rejected(expected))
        }
        for malformed in [
            "Bearer abc",
            "HMAC-SHA256 Signature=\(vector.expectedSignature)",
            "HMAC-SHA256 SignedHeaders=host;x-ms-date;x-ms-content-sha256&Signature=\(vector.expectedSignature)",
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=abc",
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256,Signature=\(vector.expectedSignature)",
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=\(vector.expectedSignature)&x=1",
        ] {
            #expect(verify(vector, authorization: malformed) == .rejected(.malformedAuthorization), "\(malformed)")
        }
        // Parts in the other order and a lower-case scheme are still the Vipps form.
        let reordered =
            "hmac-sha256 Signature=\(vector.expectedSignature)&SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        #expect(verify(vector, authorization: reordered) == .authentic(secretIndex: 0))
    }

    @Test("the date must be an HTTP-date within the window")
    func dateWindow() throws {
        let vector = SignatureVector.named("non-default-port-in-host")
        let sent = HTTPDate.parse(vector.date)!
        #expect(verify(vector, now: sent + 300) == .authentic(secretIndex: 0))
        #expect(verify(vector, now: sent - 300) == .authentic(secretIndex: 0))
        #expect(verify(vector, now: sent + 301) == .rejected(.dateOutsideWindow(-301)))
        #expect(verify(vector, now: sent - 301) == .rejected(.dateOutsideWindow(301)))
        // An unparseable but correctly signed date.
        let secret = WebhookSecret(vector.secret)
        let target = try SignedTarget(url: vector.registeredUrl)
        let signed = RequestSigner.sign(secret: secret, target: target, date: "yesterday", body: vector.bodyBytes)
        let result = verify(vector, date: "yesterday", authorization: signed.authorization)
        #expect(result == .rejected(.unparseableDate))
    }

    @Test("rotation: any of several secrets verifies, and the matching one is reported")
    func rotation() throws {
        let vector = SignatureVector.named("query-string-guid-secret")
        let verifier = SignatureVerifier(secrets: [WebhookSecret("new-secret"), WebhookSecret(vector.secret)])
        let result = verifier.verify(
            method: "POST",
            target: try SignedTarget(url: vector.registeredUrl),
            headers: headers(vector),
            body: vector.bodyBytes,
            now: HTTPDate.parse(vector.date)!
        )
        #expect(result == .authentic(secretIndex: 1))
        let none = SignatureVerifier(secrets: [WebhookSecret("")])
        #expect(none.secrets.isEmpty)
    }

    @Test("a secret prints redacted and a secret file's trailing newline is not part of it")
    func secretHandling() {
        let secret = WebhookSecret("090a478d-37ff-4e77-970e-d457aeb26a3a")
        #expect(!"\(secret)".contains("090a"))
        #expect(!String(reflecting: secret).contains("090a"))
        #expect(WebhookSecret(fileContents: Array("abc\n".utf8)).keyBytes == Array("abc".utf8))
        #expect(WebhookSecret(fileContents: Array("abc\r\n".utf8)).keyBytes == Array("abc".utf8))
        #expect(WebhookSecret(fileContents: Array("abc\n\n".utf8)).keyBytes == Array("abc\n".utf8))
        #expect(WebhookSecret(fileContents: Array(" abc".utf8)).keyBytes == Array(" abc".utf8))
    }

    // MARK: - Helpers

    private func headers(
        _ vector: SignatureVector,
        date: String? = nil,
        contentHash: String? = nil,
        authorization: String? = nil
    ) -> [(name: String, value: String)] {
        [
            (name: "host", value: "127.0.0.1:8080"),
            (name: "content-type", value: "application/json; charset=utf-8"),
            (name: "x-ms-date", value: date ?? vector.date),
            (name: "x-ms-content-sha256", value: contentHash ?? vector.expectedContentHash),
            (name: "authorization", value: authorization ?? vector.expectedAuthorization),
        ]
    }

    private func verify(
        _ vector: SignatureVector,
        target: SignedTarget? = nil,
        headers custom: [(name: String, value: String)]? = nil,
        body: [UInt8]? = nil,
        date: String? = nil,
        contentHash: String? = nil,
        authorization: String? = nil,
        now: Int64? = nil
    ) -> VerificationResult {
        let verifier = SignatureVerifier(secrets: [WebhookSecret(vector.secret)])
        return verifier.verify(
            method: "POST",
            target: target ?? (try! SignedTarget(url: vector.registeredUrl)),
            headers: custom ?? headers(vector, date: date, contentHash: contentHash, authorization: authorization),
            body: body ?? vector.bodyBytes,
            now: now ?? HTTPDate.parse(vector.date)!
        )
    }

    private func flipLast(_ text: String) -> String {
        var bytes = Array(text.utf8)
        bytes[bytes.count - 1] ^= 0x01
        return String(decoding: bytes, as: UTF8.self)
    }
}
