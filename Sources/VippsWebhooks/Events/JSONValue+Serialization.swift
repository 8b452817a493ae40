import HTTP1

extension JSONValue {
    /// Compact JSON text: no whitespace, member order kept, numbers as their original text, strings escaped only
    /// where JSON requires (`"`, `\`, control characters); other characters are written as UTF-8.
    public var compactText: String {
        String(decoding: compactBytes, as: UTF8.self)
    }

    /// ``compactText`` as UTF-8 bytes.
    public var compactBytes: [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(into: &output)
        return output
    }

    /// Appends the compact text of this value to `output`.
    public func write(into output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): output.append(contentsOf: number.text.utf8)
        case .string(let text): JSONValue.writeString(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `text` as a JSON string literal: `"`, `\` and control characters escaped, everything else as UTF-8.
    public static func writeString(_ text: String, into output: inout [UInt8]) {
        text.withUTF8Bytes { writeString(utf8: $0, into: &output) }
    }

    /// Appends the UTF-8 bytes `utf8` as a JSON string literal, escaped as ``writeString(_:into:)`` does; runs of
    /// bytes that need no escape are copied whole.
    static func writeString(utf8: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        while index < utf8.count {
            // Eight plain bytes at a time; a word holding a byte to escape is then gone through byte by byte.
            if index + 8 <= utf8.count,
                !needsEscape(UnsafeRawPointer(utf8.baseAddress!).loadUnaligned(fromByteOffset: index, as: UInt64.self))
            {
                index += 8
                continue
            }
            let byte = utf8[index]
            index += 1
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { continue }
            let escaped = index - 1
            if runStart < escaped {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<escaped]))
            }
            appendEscape(of: byte, to: &output)
            runStart = index
        }
        if runStart < utf8.count {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Whether any of the eight bytes of `word` is a control character, `"` or `\`: a byte a JSON string must escape
    /// when written, and one the parser must look at when read.
    @inlinable
    static func needsEscape(_ word: UInt64) -> Bool {
        ByteScan.containsLess(word, than: 0x20) || ByteScan.contains(word, UInt8(ascii: "\""))
            || ByteScan.contains(word, UInt8(ascii: "\\"))
    }

    /// Whether any of the eight bytes of `word` is below 0x20, is `"` or `\`, or is 0x80 or above: a word of a JSON
    /// string's text that a reader of plain ASCII text cannot pass whole (the parser, `payments.log`'s line reader).
    @inlinable
    public static func hasNonPlainByte(_ word: UInt64) -> Bool {
        ByteScan.containsNonASCII(word) || needsEscape(word)
    }

    /// Appends the JSON escape of `byte`, a quote, a backslash or a control character.
    private static func appendEscape(of byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
        case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
        case 0x08: output.append(contentsOf: #"\b"#.utf8)
        case 0x0C: output.append(contentsOf: #"\f"#.utf8)
        case 0x0A: output.append(contentsOf: #"\n"#.utf8)
        case 0x0D: output.append(contentsOf: #"\r"#.utf8)
        case 0x09: output.append(contentsOf: #"\t"#.utf8)
        default:
            let hex: StaticString = "0123456789abcdef"
            output.append(contentsOf: #"\u00"#.utf8)
            output.append(hex.utf8Start[Int(byte >> 4)])
            output.append(hex.utf8Start[Int(byte & 0x0F)])
        }
    }
}
