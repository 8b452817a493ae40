import Testing
import VippsWebhooks

/// `JSONValue.writeString` copies runs of plain bytes whole; these hold it to the byte-at-a-time definition
/// (escape `"`, `\` and control characters, everything else as UTF-8) and to the parser (round trip).
@Suite("JSON string writer")
struct JSONStringWriterTests {
    /// The definition, one byte at a time.
    private func reference(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += Array(#"\""#.utf8)
            case 0x5C: out += Array(#"\\"#.utf8)
            case 0x08: out += Array(#"\b"#.utf8)
            case 0x0C: out += Array(#"\f"#.utf8)
            case 0x0A: out += Array(#"\n"#.utf8)
            case 0x0D: out += Array(#"\r"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        return out + [0x22]
    }

    private func written(_ text: String, after prefix: [UInt8] = []) -> [UInt8] {
        var out = prefix
        JSONValue.writeString(text, into: &out)
        return out
    }

    @Test func everyASCIIByteAloneAndBetweenPlainRuns() throws {
        for byte in UInt8(0)...0x7F {
            let alone = String(decoding: [byte], as: UTF8.self)
            #expect(written(alone) == reference(alone), "byte \(byte)")
            let surrounded = "ab" + alone + "cd" + alone
            #expect(written(surrounded) == reference(surrounded), "byte \(byte) between runs")
            #expect(try JSONParser.parse(written(surrounded)) == .string(surrounded))
        }
    }

    @Test func emptyAndNonASCIIAndAppendedAfterExistingBytes() throws {
        for text in ["", "æøå", "\u{1F600}\"\\\u{7F}", "\u{2028}", String(repeating: "x", count: 1000) + "\n"] {
            #expect(written(text) == reference(text))
            #expect(written(text, after: Array("prefix".utf8)) == Array("prefix".utf8) + reference(text))
            #expect(try JSONParser.parse(written(text)) == .string(text))
        }
    }

    @Test func randomStringsMatchTheDefinitionAndRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "\"", "\\", "\n", "\u{0}", "\u{1F}", " ", "é", "\u{1F600}", "\t", "/"]
        for _ in 0..<500 {
            let count = Int.random(in: 0..<40, using: &generator)
            let text = String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(written(text) == reference(text), "\(text.debugDescription)")
            #expect(try JSONParser.parse(written(text)) == .string(text))
        }
    }

    @Test("every byte to escape at every place of a 19-byte string: words of eight are skipped only when plain")
    func everyEscapeAtEveryPlace() throws {
        let escapes: [UInt8] = Array(0x00..<0x20) + [0x22, 0x5C]
        let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7E, 0x7F, 0xC3, 0xA6]  // neighbours of the escapes; æ
        for byte in escapes {
            for place in 0..<19 {
                var bytes = (0..<19).map { plain[$0 % plain.count] }
                // Keep the UTF-8 pair whole: put the escape where it does not split "æ".
                bytes = bytes.map { $0 >= 0x80 ? 0x61 : $0 }
                bytes[place] = byte
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(written(text) == reference(text), "byte \(byte) at \(place)")
            }
        }
        let wide = String(repeating: "æøå€😀", count: 7)
        #expect(written(wide) == reference(wide))
    }

    @Test func aStringThatIsASliceOfABiggerOneIsWrittenAlone() {
        let whole = "prefix-\"middle\"-suffix"
        let middle = String(whole.dropFirst(7).dropLast(7))
        #expect(written(middle) == reference(middle))
    }
}
