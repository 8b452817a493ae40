import FuzzDriver
import VippsWebhooks

/// The fixed secret, target and clock every input is checked against.
let secret = WebhookSecret("fuzz-secret")
let verifier = SignatureVerifier(secrets: [secret], clockSkewSeconds: 300)
let target = SignedTarget(host: "127.0.0.1:18090", pathAndQuery: "/webhooks/vipps")
let signedDate = "Sun, 22 Nov 2026 19:00:00 GMT"
let now: Int64 = 1_795_374_000  // signedDate as seconds since 1970

/// Splits an input into a body and header fields.
///
/// Layout: byte 0 is a flag byte; the rest is split on NUL bytes. The first piece is the body, each further piece is a
/// header field `name:value` (a piece without a colon is a name with an empty value). When bit 0 of the flag byte is
/// set, the three Vipps headers are computed for the body and put first, so the fuzzer also reaches the code after
/// the signature check; bit 1 then corrupts one byte of the signature.
func split(_ input: [UInt8]) -> (flags: UInt8, body: [UInt8], headers: [(name: String, value: String)]) {
    guard let flags = input.first else { return (0, [], []) }
    let pieces = input.dropFirst().split(separator: 0, omittingEmptySubsequences: false)
    let body = pieces.first.map { Array($0) } ?? []
    var headers: [(name: String, value: String)] = []
    for piece in pieces.dropFirst() {
        if let colon = piece.firstIndex(of: UInt8(ascii: ":")) {
            headers.append(
                (String(decoding: piece[..<colon], as: UTF8.self), String(decoding: piece[(colon + 1)...], as: UTF8.self))
            )
        } else {
            headers.append((String(decoding: piece, as: UTF8.self), ""))
        }
    }
    return (flags, body, headers)
}

/// Verifies and decodes one input; traps when an invariant does not hold.
func check(_ input: [UInt8]) {
    let (flags, body, fuzzedHeaders) = split(input)
    var headers = fuzzedHeaders
    if flags & 1 == 1 {
        let signed = RequestSigner.sign(secret: secret, target: target, date: signedDate, body: body)
        var authorization = signed.authorization
        if flags & 2 == 2 { authorization += "A" }
        headers.insert(contentsOf: [
            ("x-ms-date", signed.date), ("x-ms-content-sha256", signed.contentHash), ("Authorization", authorization),
        ], at: 0)
        let result = verifier.verify(method: "POST", target: target, headers: headers, body: body, now: now)
        if flags & 2 == 0 {
            precondition(result == .authentic(secretIndex: 0), "a correctly signed request was rejected: \(result)")
        } else {
            precondition(result != .authentic(secretIndex: 0), "a request with a corrupted signature was accepted")
        }
    } else {
        let result = verifier.verify(method: "POST", target: target, headers: headers, body: body, now: now)
        // Random bytes cannot carry a valid HMAC under the fuzz secret.
        precondition(result != .authentic(secretIndex: 0), "an unsigned request was accepted")
    }

    // Decode totality: every body yields an event; its type agrees with its family; JSON objects are kept.
    let event = DecodedEvent.decode(body: body)
    precondition(event.type == event.family.type, "type and family disagree")
    let parsed: JSONValue?
    do {
        parsed = try JSONParser.parse(body)
        precondition(event.parseError == nil, "decode reported a parse error the parser did not")
    } catch {
        parsed = nil
        precondition(event.parseError == error, "decode and parser disagree on the error")
        precondition(event.json == nil && event.type == DecodedEvent.unknownType, "unparseable body got a type")
    }
    if let parsed {
        if parsed.objectMembers != nil {
            precondition(event.json == parsed, "decode did not keep the parsed object")
        } else {
            precondition(event.json == nil && event.type == DecodedEvent.unknownType, "non-object body got a type")
        }
        // The compact serialisation parses back to the same value.
        let reparsed = try? JSONParser.parse(parsed.compactBytes)
        precondition(reparsed == parsed, "compact text does not parse back to the same value")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM links an executable's `main` to `<Module>_main`; hand control to libFuzzer's driver from there.
@_cdecl("VerifierDecoderFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runLibFuzzer(argc: argc, argv: argv) { fuzz($0, $1) }
}
