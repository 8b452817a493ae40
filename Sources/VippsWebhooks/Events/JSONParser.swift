import HTTP1

/// A strict RFC 8259 JSON parser over bytes.
///
/// Refuses: anything but one value surrounded by optional whitespace (no BOM, no trailing data), invalid UTF-8,
/// raw control characters in strings, unpaired surrogate escapes, duplicate object keys, numbers outside the grammar
/// or with exponents longer than ``JSONNumber/maximumExponentDigits`` digits, and nesting deeper than the limit.
public enum JSONParser {
    /// Default bound on nested arrays and objects.
    public static let defaultMaximumDepth = 64

    /// Parses exactly one JSON value from `bytes`.
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text.
    ///   - maximumDepth: how many arrays/objects may nest (the top-level container counts as 1).
    /// - Throws: ``JSONParseError`` with the reason and byte offset of the first problem.
    public static func parse(
        _ bytes: some Collection<UInt8>,
        maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> JSONValue {
        try parseNoticingNUL(bytes, maximumDepth: maximumDepth).value
    }

    /// ``parse(_:maximumDepth:)``, also telling whether any string in the value holds U+0000 (only a `\u0000`
    /// escape can put one there), so that a caller looking for such strings can skip the search when none does.
    static func parseNoticingNUL(
        _ bytes: some Collection<UInt8>,
        maximumDepth: Int = defaultMaximumDepth
    ) throws(JSONParseError) -> (value: JSONValue, hasNUL: Bool) {
        let result =
            bytes.withContiguousStorageIfAvailable { buffer in
                parse(buffer: buffer, maximumDepth: maximumDepth)
            }
            ?? Array(bytes).withUnsafeBufferPointer { buffer in
                parse(buffer: buffer, maximumDepth: maximumDepth)
            }
        return try result.get()
    }

    private static func parse(
        buffer: UnsafeBufferPointer<UInt8>,
        maximumDepth: Int
    ) -> Result<(value: JSONValue, hasNUL: Bool), JSONParseError> {
        var scanner = Scanner(bytes: buffer, maximumDepth: maximumDepth)
        return Result { () throws(JSONParseError) -> (value: JSONValue, hasNUL: Bool) in
            scanner.skipWhitespace()
            let value = try scanner.parseValue(depth: 0)
            scanner.skipWhitespace()
            guard scanner.index == buffer.count else { throw JSONParseError(.trailingData, at: scanner.index) }
            return (value, scanner.sawNUL)
        }
    }
}

/// Cursor over the input; one instance per parse.
private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var index = 0
    /// Whether a decoded string holds U+0000.
    var sawNUL = false
    /// Decoded bytes of the string being parsed, when it has escapes; reused from string to string.
    var scratch: [UInt8] = []
    /// Whether the last string ``parseString()`` returned was taken from the input without escapes or bytes ≥ 0x80.
    var lastStringWasPlainASCII = false
    /// Member count up to which duplicate keys are found by scanning instead of hashing.
    static let linearKeyScanLimit = 16
    /// Capacity reserved for the members of the top-level object (a webhook body has about ten) and of nested ones.
    static let topLevelMemberCapacity = 16
    static let nestedMemberCapacity = 4

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
        elements.reserveCapacity(Scanner.nestedMemberCapacity)
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
        // Bit i: key i is plain ASCII. Two plain ASCII keys are equal only when their bytes are, so keys of other
        // lengths need no String comparison; any other key is compared as String (canonical equivalence).
        var plainASCIIKeys: UInt32 = 0
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        members.reserveCapacity(depth == 1 ? Scanner.topLevelMemberCapacity : Scanner.nestedMemberCapacity)
        while true {
            skipWhitespace()
            let keyOffset = index
            let opening = try peek()
            guard opening == UInt8(ascii: "\"") else { throw JSONParseError(.unexpectedByte(opening), at: index) }
            let key = try parseString()
            if members.count == Scanner.linearKeyScanLimit {
                seenKeys = Set(members.map(\.key))
            }
            let duplicate: Bool
            if seenKeys != nil {
                duplicate = !seenKeys!.insert(key).inserted
            } else {
                let keyIsPlainASCII = lastStringWasPlainASCII
                let keyLength = key.utf8.count
                var found = false
                for position in members.indices {
                    let other = members[position].key
                    if keyIsPlainASCII, plainASCIIKeys & (1 << position) != 0, other.utf8.count != keyLength {
                        continue
                    }
                    if other == key {
                        found = true
                        break
                    }
                }
                duplicate = found
                if keyIsPlainASCII { plainASCIIKeys |= 1 << members.count }
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
    /// once; the scratch buffer is only used when the string contains escapes.
    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        var segmentStart = index
        var escaped = false
        var plainASCII = true
        while true {
            skipPlainASCII()
            guard index < bytes.count else { throw JSONParseError(.unexpectedEnd, at: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                lastStringWasPlainASCII = plainASCII
                guard escaped else {
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]))
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                if !escaped {
                    scratch.removeAll(keepingCapacity: true)
                    escaped = true
                    plainASCII = false
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]))
                try parseEscape()
                segmentStart = index
            } else if byte < 0x20 {
                throw JSONParseError(.controlCharacterInString, at: index)
            } else {
                plainASCII = false
                try skipMultiByteSequence()
            }
        }
    }

    /// Moves `index` past bytes that need no attention inside a string: ASCII other than controls, `"` and `\`.
    /// Eight bytes at a time while a whole word is such bytes, then byte by byte.
    @inline(__always)
    mutating func skipPlainASCII() {
        guard let base = bytes.baseAddress else { return }
        let end = bytes.count
        var position = index
        while end - position >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            if JSONValue.hasNonPlainByte(word) { break }
            position += 8
        }
        while position < end {
            let byte = base[position]
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
            position += 1
        }
        index = position
    }

    /// Decodes the escape at `index` (a backslash) and appends its UTF-8 encoding to ``scratch``.
    mutating func parseEscape() throws(JSONParseError) {
        let escapeOffset = index
        index += 1
        let letter = try peek()
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(letter)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
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
            if scalar == 0 { sawNUL = true }
            scratch.append(contentsOf: UTF8.encode(unicode)!)
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
