import TestSupport
import Testing

@testable import VippsWebhooks

/// The optimised ``JSONParser`` against ``ReferenceJSONParser`` (the parser before issue 19): the same tree, byte for
/// byte, or the same error (reason and offset), on vendor samples, mutated bodies and random documents.
@Suite("JSON parser against its reference")
struct JSONParserDifferentialTests {
    /// Bodies whose every byte is mutated: the bench payload, and bodies with escapes, surrogate pairs, non-ASCII text,
    /// long ASCII runs (the word-at-a-time scan), canonically equivalent keys and a NUL escape.
    static let seeds: [String] = [
        #"{"msn":"123456","reference":"acme-shop-123-order-000042","pspReference":"7686f7788898767977","name":"AUTHORIZED","amount":{"currency":"NOK","value":49900},"timestamp":"2026-11-22T12:00:00.000Z","idempotencyKey":"b6d5f2c0-6c3a-4a8e-9d4b-2f1e7c9a0b11","success":true}"#,
        #"{"a\"b":"x\\y\/z\b\f\n\r\t","\u00e6":"\ud83d\ude00 \u0041\u0000 end","k":[1,-0.5e+7,true,false,null,{}],"K":"\u212a"}"#,
        "{\"blåbær\":\"smørbrød 😀 ÆØÅ abcdefghijklmnop\",\"é\":1,\"e\u{301}x\":2,\"arr\":[\"0123456789abcdef\",\"\"]}",
        #"{"long":"abcdefgh\"ijklmnopqrstuvwxyz0123456789\\ABCDEFGHIJKLMNOP","nested":{"a":{"b":[[["deep"]]]}}}"#,
    ]

    /// Replacement bytes tried at every position: structure, escapes, controls, and UTF-8 leads and continuations.
    static let replacements: [UInt8] = [
        0x00, 0x1F, 0x20, 0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x30, 0x75, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0,
        0xED, 0xF0, 0xF4, 0xFF,
    ]

    @Test func vendorSamplesParseTheSame() throws {
        for type in SampleEvents.knownTypes {
            let body = try #require(
                SampleEvents.body(for: type, now: 1, randomBytes: { [UInt8](repeating: 9, count: $0) })
            )
            try expectSame(Array(body))
        }
    }

    @Test(arguments: 0..<seeds.count)
    func everySingleByteMutationParsesTheSame(seed: Int) throws {
        let body = Array(Self.seeds[seed].utf8)
        try expectSame(body)
        for position in body.indices {
            for replacement in Self.replacements where replacement != body[position] {
                var mutated = body
                mutated[position] = replacement
                try expectSame(mutated)
            }
            var shorter = body
            shorter.remove(at: position)
            try expectSame(shorter)
            try expectSame(Array(body[..<position]))
        }
    }

    @Test func randomDocumentsParseTheSame() throws {
        var random = SplitMix(seed: 19)
        for _ in 0..<3_000 {
            var text: [UInt8] = []
            Self.appendRandomValue(to: &text, depth: 0, random: &random)
            try expectSame(text)
            // A random byte flipped somewhere, too.
            let position = Int.random(in: 0..<text.count, using: &random)
            text[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            try expectSame(text)
        }
    }

    @Test func depthLimitFailsAtTheSamePlace() throws {
        for limit in [1, 2, 5, 64] {
            for depth in [limit - 1, limit, limit + 1] where depth >= 0 {
                let arrays = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
                let objects = Array(
                    (String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)).utf8
                )
                try expectSame(arrays, maximumDepth: limit)
                try expectSame(objects, maximumDepth: limit)
            }
        }
    }

    @Test func keysEqualAsStringsAreDuplicatesWhateverTheirBytes() {
        // KELVIN SIGN is canonically equivalent to K, and é precomposed to e + combining acute: Swift Strings compare
        // them equal, so the parser refuses them as duplicates, as it always did.
        for body in [
            #"{"K":1,"\u212a":2}"#, "{\"\u{212A}\":1,\"K\":2}", "{\"é\":1,\"e\u{301}\":2}", #"{"ab":1,"a\u0062":2}"#,
        ] {
            let result = ReferenceJSONParser.parse(Array(body.utf8))
            guard case .failure(let error) = result, case .duplicateKey = error.reason else {
                Issue.record("reference accepted \(body)")
                continue
            }
            #expect(throws: error) { try JSONParser.parse(Array(body.utf8)) }
        }
    }

    @Test func nulIsNoticedExactlyWhenAStringHoldsOne() throws {
        for body in [#"{"a":"x\u0000"}"#, #"{"a":["\u0000"]}"#, #"{"\u0000":1}"#, #"{"a":"\\u0000"}"#, #"{"a":"x"}"#] {
            let (value, hasNUL) = try JSONParser.parseNoticingNUL(Array(body.utf8))
            #expect(hasNUL == Self.containsNUL(value), "\(body)")
        }
    }

    // MARK: - Helpers

    private func expectSame(
        _ bytes: [UInt8],
        maximumDepth: Int = JSONParser.defaultMaximumDepth,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expected = ReferenceJSONParser.parse(bytes, maximumDepth: maximumDepth)
        let actual: Result<(value: JSONValue, hasNUL: Bool), JSONParseError> = Result {
            () throws(JSONParseError) -> (value: JSONValue, hasNUL: Bool) in
            try JSONParser.parseNoticingNUL(bytes, maximumDepth: maximumDepth)
        }
        switch (expected, actual) {
        case (.success(let reference), .success(let parsed)):
            #expect(Self.sameBytes(reference, parsed.value), "\(bytes)", sourceLocation: sourceLocation)
            #expect(parsed.hasNUL == Self.containsNUL(reference), "\(bytes)", sourceLocation: sourceLocation)
        case (.failure(let reference), .failure(let parsed)):
            #expect(
                Self.sameError(reference, parsed),
                "\(bytes): \(reference) vs \(parsed)",
                sourceLocation: sourceLocation
            )
        default:
            Issue.record("\(bytes): reference \(expected), parser \(actual)", sourceLocation: sourceLocation)
        }
    }

    /// Equal trees with strings equal byte for byte (String's `==` would accept canonically equivalent text).
    static func sameBytes(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x.text.utf8.elementsEqual(y.text.utf8)
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameBytes($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && sameBytes($0.value, $1.value) }
        default: return false
        }
    }

    static func sameError(_ a: JSONParseError, _ b: JSONParseError) -> Bool {
        guard a.offset == b.offset else { return false }
        if case .duplicateKey(let x) = a.reason, case .duplicateKey(let y) = b.reason {
            return x.utf8.elementsEqual(y.utf8)
        }
        return a.reason == b.reason
    }

    static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): return text.utf8.contains(0)
        case .array(let elements): return elements.contains { containsNUL($0) }
        case .object(let members): return members.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        default: return false
        }
    }

    /// Appends a random JSON value; strings mix ASCII runs, escapes, non-ASCII text and the odd raw quote or control.
    static func appendRandomValue(to text: inout [UInt8], depth: Int, random: inout SplitMix) {
        let choice = depth > 4 ? Int.random(in: 0..<4, using: &random) : Int.random(in: 0..<7, using: &random)
        switch choice {
        case 0: text += Array(["null", "true", "false"].randomElement(using: &random)!.utf8)
        case 1:
            text += Array(
                ["0", "-1", "49900", "1.5e3", "-0.25E-2", "12345678901234567890"].randomElement(using: &random)!.utf8
            )
        case 2, 3: appendRandomString(to: &text, random: &random)
        case 4:
            text.append(UInt8(ascii: "["))
            for index in 0..<Int.random(in: 0..<5, using: &random) {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                appendRandomValue(to: &text, depth: depth + 1, random: &random)
            }
            text.append(UInt8(ascii: "]"))
        default:
            text.append(UInt8(ascii: "{"))
            for index in 0..<Int.random(in: 0..<20, using: &random) {
                if index > 0 { text.append(UInt8(ascii: ",")) }
                appendRandomString(to: &text, random: &random, short: true)
                text += Array(" : ".utf8)
                appendRandomValue(to: &text, depth: depth + 1, random: &random)
            }
            text.append(UInt8(ascii: "}"))
        }
    }

    static func appendRandomString(to text: inout [UInt8], random: inout SplitMix, short: Bool = false) {
        let pieces = [
            "a", "b", "K", "abcdefgh", "0123456789abcdef", " ", "\\\"", "\\\\", "\\/", "\\n", "\\u0041", "\\u00e6",
            "\\u212a", "\\ud83d\\ude00", "\\u0000", "æ", "e\u{301}", "é", "😀", "\u{212A}",
        ]
        text.append(UInt8(ascii: "\""))
        for _ in 0..<Int.random(in: 0..<(short ? 3 : 8), using: &random) {
            text += Array(pieces.randomElement(using: &random)!.utf8)
        }
        if Int.random(in: 0..<50, using: &random) == 0 {
            text.append([0x22, 0x1F, 0xC3, 0xED].randomElement(using: &random)!)
        }
        text.append(UInt8(ascii: "\""))
    }
}
