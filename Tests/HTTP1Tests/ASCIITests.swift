import HTTP1
import Testing

/// HTTP1's ASCII helpers, which also serve the signature checks (VippsWebhooks), the API input checks (VippsAPI),
/// the credentials file and the listen address (WebhookDaemon), and the client's answer parser.
@Suite struct ASCIITests {
    @Test func trimsSpacesAndTabsOfBytesAndText() {
        #expect(Array(ASCII.trimmed(Array(" \t a b\t ".utf8)[...])) == Array("a b".utf8))
        #expect(ASCII.trimmed(Array("\t\t".utf8)[...]).isEmpty)
        // Only SP and HTAB by default: CR, LF and other bytes stay.
        #expect(ASCII.trimmed(" \r\nvalue\r\n ") == "\r\nvalue\r\n")
        #expect(ASCII.trimmed("  naïve  ") == "naïve")
        let text = "xx  inner  yy"
        let inner = text.dropFirst(2).dropLast(2)
        #expect(ASCII.trimmed(inner) == "inner")
    }

    @Test func trimsWhitespaceIncludingCRAndLFWhenAsked() {
        #expect(ASCII.trimmed(" \r\n\thttps://x/\r\n", while: ASCII.isWhitespace) == "https://x/")
        #expect(ASCII.trimmed("\r\n\r\n", while: ASCII.isWhitespace) == "")
        // A non-ASCII space is not ASCII white space.
        #expect(ASCII.trimmed("\u{A0}a\u{A0}", while: ASCII.isWhitespace) == "\u{A0}a\u{A0}")
        #expect([0x20, 0x09, 0x0D, 0x0A].allSatisfy(ASCII.isWhitespace))
        #expect(![0x0B, 0x0C, 0x00, 0x41].contains(where: ASCII.isWhitespace))
    }

    @Test func decimalValuesOfTextAndBytes() {
        #expect(ASCII.decimalValue("0065535") == 65535)
        #expect(ASCII.decimalValue(bytes: Array("42".utf8)[...]) == 42)
        #expect(ASCII.decimalValue(bytes: Array("999999999999999999".utf8), maxDigits: 18) == 999_999_999_999_999_999)
        for bad in ["", "+1", "-1", " 1", "1 ", "1a", "١"] {
            #expect(ASCII.decimalValue(bad) == nil, "\(bad)")
            #expect(ASCII.decimalValue(bytes: Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(ASCII.decimalValue("1234567890") == nil)
        #expect(ASCII.decimalValue("1234567890", maxDigits: 10) == 1_234_567_890)
        #expect((0...255).filter { ASCII.isDigit(UInt8($0)) } == Array(0x30...0x39))
    }

    @Test func visibleIsExactlyVCHAR() {
        #expect((0...255).filter { ASCII.isVisible(UInt8($0)) } == Array(0x21...0x7E))
    }

    @Test func tokenCharactersAreExactlyTchar() {
        // RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
        // / "~" / DIGIT / ALPHA.
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(ASCII.isTokenChar(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }

    @Test func lettersAndDigitsAreExactlyTheASCIIOnes() {
        let expected = Array(0x30...0x39) + Array(0x41...0x5A) + Array(0x61...0x7A)
        #expect((0...255).filter { ASCII.isLetterOrDigit(UInt8($0)) } == expected)
    }
}
