@testable import VippsWebhooks

/// The JSON parser as it was before its scanner was optimised (issue 19), kept verbatim as the reference the
/// differential tests compare ``JSONParser`` against: same trees, same errors (reason and offset).
enum ReferenceJSONParser {
    static func parse(
        _ bytes: [UInt8],
        maximumDepth: Int = JSONParser.defaultMaximumDepth
    ) -> Result<
        JSONValue, JSONParseError
    > {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = ReferenceScanner(bytes: buffer, maximumDepth: maximumDepth)
            return Result { () throws(JSONParseError) -> JSONValue in
                scanner.skipWhitespace()
                let value = try scanner.parseValue(depth: 0)
                scanner.skipWhitespace()
                guard scanner.index == buffer.count else { throw JSONParseError(.trailingData, at: scanner.index) }
                return value
            }
        }
    }
}

/// Cursor over the input; one instance per parse.
private struct ReferenceScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var index = 0
    /// Member count up to which duplicate keys are found by scanning instead of hashing.
    static let linearKeyScanLimit = 16

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func peek() throws(JSONParseError) -> UInt8 {
        guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
        return bytes[index]
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw JSONParseError(.unexpectedByte(byte), at: index)
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for offset in 0..<count {
            guard index + offset < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index + offset) }
            let byte = bytes[index + offset]
            guard byte == expected[offset] else { throw JSONParseError(.unexpectedByte(byte), at: index + offset) }
        }
        index += count
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        guard let length = JSONNumber.grammarLength(bytes, from: index) else {
            throw JSONParseError(.invalidNumber, at: index)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<index + length]), as: UTF8.self)
        index += length
        return JSONNumber(validatedText: text)
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw JSONParseError(.tooDeep(limit: maximumDepth), at: index) }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            let separator = try peek()
            index += 1
            switch separator {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return .array(elements)
            default: throw JSONParseError(.unexpectedByte(separator), at: index - 1)
            }
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= maximumDepth else { throw JSONParseError(.tooDeep(limit: maximumDepth), at: index) }
        index += 1
        var members: [JSONMember] = []
        // Small objects (all webhook bodies) check duplicates by a linear scan; larger ones switch to a set.
        var seenKeys: Set<String>? = nil
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            let keyOffset = index
            let opening = try peek()
            guard opening == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedByte(opening), at: index) }
            let key = try parseString()
            if members.count == ReferenceScanner.linearKeyScanLimit {
                seenKeys = Set(members.map(\.key))
            }
            let duplicate =
                if seenKeys != nil {
                    !seenKeys!.insert(key).inserted
                } else {
                    members.contains { $0.key == key }
                }
            guard !duplicate else { throw JSONParseError(.duplicateKey(key), at: keyOffset) }
            skipWhitespace()
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw JSONParseError(.unexpectedByte(colon), at: index) }
            index += 1
            skipWhitespace()
            members.append(JSONMember(key, try parseValue(depth: depth)))
            skipWhitespace()
            let separator = try peek()
            index += 1
            switch separator {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return .object(members)
            default: throw JSONParseError(.unexpectedByte(separator), at: index - 1)
            }
        }
    }

    /// Parses a string starting at its opening quote. Unescaped runs are validated as UTF-8 in place and copied
    /// once; a scratch buffer is only used when the string contains escapes.
    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        var segmentStart = index
        var scratch: [UInt8]? = nil
        while true {
            guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                guard var decoded = scratch else {
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                }
                decoded.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]))
                return String(decoding: decoded, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                var decoded = scratch ?? []
                decoded.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]))
                try parseEscape(into: &decoded)
                scratch = decoded
                segmentStart = index
            } else if byte < 0x20 {
                throw JSONParseError(.controlCharacterInString, at: index)
            } else if byte < 0x80 {
                index += 1
            } else {
                try skipMultiByteSequence()
            }
        }
    }

    /// Decodes the escape at `index` (a backslash) and appends its UTF-8 encoding.
    mutating func parseEscape(into output: inout [UInt8]) throws(JSONParseError) {
        let escapeOffset = index
        index += 1
        let letter = try peek()
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(letter)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw JSONParseError(.loneSurrogate, at: escapeOffset) }
                index += 2
                let low = try parseHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else { throw JSONParseError(.loneSurrogate, at: escapeOffset) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw JSONParseError(.loneSurrogate, at: escapeOffset)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw JSONParseError(.loneSurrogate, at: escapeOffset) }
            output.append(contentsOf: UTF8.encode(unicode)!)
        default:
            throw JSONParseError(.invalidEscape, at: escapeOffset)
        }
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = try peek()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONParseError(.invalidEscape, at: index)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence at `index` (Unicode Table 3-7: no overlongs, no surrogates, nothing
    /// above U+10FFFF) and moves past it.
    mutating func skipMultiByteSequence() throws(JSONParseError) {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: throw JSONParseError(.invalidUTF8, at: index)
        }
        guard index + length <= bytes.count else { throw JSONParseError(.invalidUTF8, at: index) }
        guard secondRange.contains(bytes[index + 1]) else { throw JSONParseError(.invalidUTF8, at: index) }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
            throw JSONParseError(.invalidUTF8, at: index)
        }
        index += length
    }
}
