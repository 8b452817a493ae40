import Testing
import VippsWebhooks

@Suite("JSON parser and serializer")
struct EventJSONParserTests {
    private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    private func reason(_ text: String) -> JSONParseError.Reason? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.reason
        }
    }

    private func reason(bytes: [UInt8]) -> JSONParseError.Reason? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test(arguments: [
        "null", "true", "false", "0", "-0", "49900", "1.5e3", "-12.25E-2", "1E+2", "\"\"", "[]", "{}",
        " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", "[[[]]]", "{\"a\":{\"b\":{\"c\":null}}}", "\"\\u00e6\\u00f8\\u00e5\"",
    ])
    func acceptsValidDocuments(_ text: String) throws {
        _ = try parse(text)
    }

    @Test(arguments: [
        ("", JSONParseError.Reason.unexpectedEnd),
        ("   ", .unexpectedEnd),
        ("{\"a\":1", .unexpectedEnd),
        ("[1,2", .unexpectedEnd),
        ("\"abc", .unexpectedEnd),
        ("{} x", .trailingData),
        ("1 2", .trailingData),
        ("{}{}", .trailingData),
        ("[1,]", .unexpectedByte(UInt8(ascii: "]"))),
        ("{\"a\":1,}", .unexpectedByte(UInt8(ascii: "}"))),
        ("{a:1}", .unexpectedByte(UInt8(ascii: "a"))),
        ("{'a':1}", .unexpectedByte(UInt8(ascii: "'"))),
        ("tru", .unexpectedEnd),
        ("nul1", .unexpectedByte(UInt8(ascii: "1"))),
        ("NaN", .unexpectedByte(UInt8(ascii: "N"))),
        ("+1", .unexpectedByte(UInt8(ascii: "+"))),
        ("01", .trailingData),
        ("1.", .invalidNumber),
        (".5", .unexpectedByte(UInt8(ascii: "."))),
        ("1e", .invalidNumber),
        ("-", .invalidNumber),
        ("1e1234567890", .invalidNumber),
        ("\"a\\x\"", .invalidEscape),
        ("\"\\u12G4\"", .invalidEscape),
        ("\"\\ud800\"", .loneSurrogate),
        ("\"\\udc00\\ud800\"", .loneSurrogate),
        ("\"\\ud800\\u0041\"", .loneSurrogate),
        ("\"a\tb\"", .controlCharacterInString),
        ("\"a\nb\"", .controlCharacterInString),
        ("{\"msn\":\"1\",\"msn\":\"2\"}", .duplicateKey("msn")),
    ])
    func rejectsInvalidDocuments(_ text: String, _ expected: JSONParseError.Reason) {
        #expect(reason(text) == expected, "\(text)")
    }

    @Test func rejectsInvalidUTF8InStrings() {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22],  // never valid
            [0x22, 0xC3, 0x22],  // truncated 2-byte sequence
            [0x22, 0xC0, 0xAF, 0x22],  // overlong "/"
            [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong 3-byte
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-8 encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
            [0x22, 0xE2, 0x82],  // truncated at end of input
        ]
        for bytes in cases {
            #expect(reason(bytes: bytes) == .invalidUTF8, "\(bytes)")
        }
        #expect(reason(bytes: [0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .unexpectedByte(0xEF))
    }

    @Test func duplicateKeysFoundInLargeObjects() throws {
        let keys = (0..<40).map { "\"k\($0)\":\($0)" }
        _ = try parse("{" + keys.joined(separator: ",") + "}")
        for duplicate in ["k0", "k15", "k16", "k39"] {
            let text = "{" + keys.joined(separator: ",") + ",\"\(duplicate)\":0}"
            #expect(reason(text) == .duplicateKey(duplicate))
        }
        // Keys equal only after escape decoding are duplicates too.
        #expect(reason(#"{"a":1,"\u0061":2}"#) == .duplicateKey("a"))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#"["\"\\\/\b\f\n\r\t", "\u00e6\u20ac", "\ud83d\ude00", "ok😀æ"]"#)
        #expect(value == .array([.string("\"\\/\u{8}\u{C}\n\r\t"), .string("æ€"), .string("😀"), .string("ok😀æ")]))
    }

    @Test func nestingIsBounded() throws {
        let depth = JSONParser.defaultMaximumDepth
        let deepestAllowed = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        _ = try parse(deepestAllowed)
        let tooDeep = String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)
        #expect(reason(tooDeep) == .tooDeep(limit: depth))
        let objects = String(repeating: "{\"a\":", count: depth + 1) + "1" + String(repeating: "}", count: depth + 1)
        #expect(reason(objects) == .tooDeep(limit: depth))
        // Far beyond the limit must fail cleanly, not overflow the stack.
        #expect(reason(String(repeating: "[", count: 100_000)) == .tooDeep(limit: depth))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("[[1]]".utf8), maximumDepth: 1) }
    }

    @Test func errorCarriesOffsetAndDescription() {
        do {
            _ = try parse("{\"a\": tru }")
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 9)
            #expect(error.description.contains("byte 9"))
        }
    }

    @Test func keepsNumberTextAndMemberOrder() throws {
        let text = #"{"z":1.50,"a":1.5e3,"m":-0,"value":49900,"nested":{"y":[true,false,null],"b":"x"}}"#
        let value = try parse(text)
        #expect(value.compactText == text)
        #expect(value.objectMembers?.map(\.key) == ["z", "a", "m", "value", "nested"])
        #expect(value["a"]?.numberValue?.text == "1.5e3")
    }

    @Test(arguments: [
        #"{"msn":"123456","reference":"order-2025-0042","amount":{"currency":"NOK","value":12100},"success":true}"#,
        #"["a\"b\\c","line\nbreak\u0000nul\u001f","æ😀",[],{},-1.25e-7,0]"#,
        #"{"":"","k":[null,[null,[null]]]}"#,
    ])
    func roundTrips(_ text: String) throws {
        let value = try parse(text)
        #expect(value.compactText == text)
        #expect(try JSONParser.parse(value.compactBytes) == value)
    }

    @Test func compactsWhitespaceAndRewritesEscapes() throws {
        let value = try parse(" { \"a\" : [ 1 , \"\\u0041\\/\" ] } ")
        #expect(value.compactText == #"{"a":[1,"A/"]}"#)
    }

    @Test func serializesBuiltValues() {
        let value = JSONValue.object([
            JSONMember("text", .string("tab\there \"q\" \u{1}")),
            JSONMember("n", .number(JSONNumber(-42))),
        ])
        #expect(value.compactText == #"{"text":"tab\there \"q\" \u0001","n":-42}"#)
    }

    @Test func numberValuesCompareExactly() throws {
        func number(_ text: String) throws -> JSONNumber { try #require(JSONNumber(text)) }
        #expect(try number("1500").hasSameValue(as: number("1.5e3")))
        #expect(try number("1500").hasSameValue(as: number("1500.000")))
        #expect(try number("0.05").hasSameValue(as: number("5e-2")))
        #expect(try number("-0").hasSameValue(as: number("0.0e10")))
        #expect(try !number("1500").hasSameValue(as: number("1501")))
        #expect(try !number("-1").hasSameValue(as: number("1")))
        // Beyond Double precision: must still differ.
        #expect(try !number("9007199254740993").hasSameValue(as: number("9007199254740992")))
        #expect(try number("1500") != number("1.5e3"))
    }

    @Test func numberIntegerConversion() throws {
        func int(_ text: String) throws -> Int64? { try #require(JSONNumber(text)).int64Value }
        #expect(try int("49900") == 49900)
        #expect(try int("1e2") == 100)
        #expect(try int("100.0") == 100)
        #expect(try int("-0") == 0)
        #expect(try int("1.5") == nil)
        #expect(try int("9223372036854775807") == Int64.max)
        #expect(try int("-9223372036854775808") == Int64.min)
        #expect(try int("9223372036854775808") == nil)
        #expect(try int("1e30") == nil)
        #expect(JSONNumber("01") == nil)
        #expect(JSONNumber("1.") == nil)
        #expect(JSONNumber("") == nil)
        #expect(JSONNumber("1e5") != nil)
        // Both sides of the 18-digit short path and every sign/zero form it could misread.
        #expect(try int("999999999999999999") == 999_999_999_999_999_999)
        #expect(try int("-999999999999999999") == -999_999_999_999_999_999)
        #expect(try int("1000000000000000000") == 1_000_000_000_000_000_000)
        #expect(try int("-1000000000000000000") == -1_000_000_000_000_000_000)
        #expect(try int("0") == 0)
        #expect(try int("-7") == -7)
        #expect(try int("-9223372036854775809") == nil)
    }

    @Test func integerConversionMatchesTheExactDecimalForRandomIntegers() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let value = Int64.random(in: Int64.min...Int64.max, using: &generator) >> UInt64.random(in: 0..<63)
            #expect(try #require(JSONNumber("\(value)")).int64Value == value)
            #expect(try #require(JSONNumber("\(value)e0")).int64Value == value)
        }
    }

    @Test func parsesFromNonContiguousCollections() throws {
        let bytes = Array("{\"a\":[1,\"b\"]}".utf8)
        let value = try JSONParser.parse(bytes.lazy.map { $0 })
        #expect(value == .object([JSONMember("a", .array([.number(JSONNumber(1)), .string("b")]))]))
        #expect(try JSONParser.parse(bytes[5...11]) == .array([.number(JSONNumber(1)), .string("b")]))
    }
}
