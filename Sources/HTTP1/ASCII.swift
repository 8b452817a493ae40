/// Byte classes of RFC 9110/9112 and byte-level helpers for header values (no `Character` or locale work), used by
/// the parser, the serializer and the signature checks.
public enum ASCII {
    public static let cr: UInt8 = 0x0D
    public static let lf: UInt8 = 0x0A
    public static let space: UInt8 = 0x20
    public static let tab: UInt8 = 0x09
    public static let colon: UInt8 = 0x3A
    public static let semicolon: UInt8 = 0x3B

    /// The byte lowercased if it is an ASCII capital letter.
    @inlinable
    public static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Whether `byte` is a space or a horizontal tab (HTTP optional white space).
    @inlinable
    public static func isSpace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// Whether `text` equals `lowercaseName` ignoring ASCII case; `lowercaseName` must be lower-case.
    @inlinable
    public static func equalsIgnoringCase(_ text: some Collection<UInt8>, _ lowercaseName: [UInt8]) -> Bool {
        guard text.count == lowercaseName.count else { return false }
        // Over buffers when the bytes are contiguous: iterators (let alone `zip`) cost more than the comparison.
        if let equal = text.withContiguousStorageIfAvailable({ equalBytesIgnoringCase($0, lowercaseName) }) {
            return equal
        }
        var index = 0
        for byte in text {
            guard lower(byte) == lowercaseName[index] else { return false }
            index += 1
        }
        return true
    }

    /// Whether the string `text` equals `lowercaseName` ignoring ASCII case; `lowercaseName` must be lower-case.
    @inlinable
    public static func equalsIgnoringCase(_ text: String, _ lowercaseName: [UInt8]) -> Bool {
        guard text.utf8.count == lowercaseName.count else { return false }
        return text.withUTF8Bytes { equalBytesIgnoringCase($0, lowercaseName) }
    }

    /// `equalsIgnoringCase(_:_:)` of a buffer of the same length as `lowercaseName`.
    @inlinable
    static func equalBytesIgnoringCase(_ text: UnsafeBufferPointer<UInt8>, _ lowercaseName: [UInt8]) -> Bool {
        lowercaseName.withUnsafeBufferPointer { name in
            var index = 0
            while index < name.count {
                guard lower(text[index]) == name[index] else { return false }
                index += 1
            }
            return true
        }
    }

    /// Whether `byte` is a space, a tab, CR or LF.
    @inlinable
    public static func isWhitespace(_ byte: UInt8) -> Bool {
        isSpace(byte) || byte == cr || byte == lf
    }

    /// Whether `byte` is an ASCII decimal digit.
    @inlinable
    public static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    /// Whether `byte` is an ASCII letter (either case) or decimal digit.
    @inlinable
    public static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (lower(byte) >= 0x61 && lower(byte) <= 0x7A)
    }

    /// `bytes` without leading and trailing bytes that `isBlank` accepts (by default spaces and tabs).
    @inlinable
    public static func trimmed<Bytes: BidirectionalCollection<UInt8>>(
        _ bytes: Bytes,
        while isBlank: (UInt8) -> Bool = isSpace
    ) -> Bytes where Bytes.SubSequence == Bytes {
        var slice = bytes
        while let first = slice.first, isBlank(first) { slice = slice.dropFirst() }
        while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
        return slice
    }

    /// Appends the bytes of `text`, a constant (copied from static storage, not through `String`).
    @inlinable
    public static func append(_ text: StaticString, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `value` in decimal, as `String(value)` spells it, without building a string.
    public static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude, to: &bytes)
    }

    /// Appends `value` in decimal, as `String(value)` spells it, without building a string.
    public static func appendDecimal(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max.
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    /// Calls `body` with every non-empty element of the comma-separated list `value` (RFC 9110 §5.6.1), trimmed of
    /// spaces and tabs, case as sent.
    @inlinable
    public static func forEachListElement<Bytes: BidirectionalCollection<UInt8>>(
        _ value: Bytes,
        _ body: (Bytes) -> Void
    ) where Bytes.SubSequence == Bytes {
        var start = value.startIndex
        while true {
            let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
            let element = trimmed(value[start..<end])
            if !element.isEmpty { body(element) }
            guard end < value.endIndex else { return }
            start = value.index(after: end)
        }
    }

    /// `text` without leading and trailing bytes that `isBlank` accepts (by default spaces and tabs; pass
    /// ``isWhitespace(_:)`` to trim CR and LF too).
    @inlinable
    public static func trimmed(_ text: some StringProtocol, while isBlank: (UInt8) -> Bool = isSpace) -> Substring {
        Substring(trimmed(Substring(text).utf8, while: isBlank))
    }

    /// A non-negative integer from 1 to `maxDigits` ASCII decimal digits only (no sign, no spaces), or nil.
    @inlinable
    public static func decimalValue(_ text: some StringProtocol, maxDigits: Int = 9) -> Int? {
        decimalValue(bytes: text.utf8, maxDigits: maxDigits)
    }

    /// ``decimalValue(_:maxDigits:)`` of bytes; `maxDigits` at most 18, so that the value cannot overflow.
    @inlinable
    public static func decimalValue(bytes digits: some Collection<UInt8>, maxDigits: Int = 9) -> Int? {
        guard !digits.isEmpty, digits.count <= maxDigits, digits.allSatisfy(isDigit) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// tchar: the characters of a token (method, header name).
    @inlinable
    public static func isTokenChar(_ byte: UInt8) -> Bool {
        // One bit per ASCII byte, set for DIGIT, ALPHA and !#$%&'*+-.^_`|~ (a few instructions per byte on the
        // parser's hot loops, where a switch over these ranges and characters took a jump table).
        let bits: UInt64 = byte < 64 ? 0x03FF_6CFA_0000_0000 : 0x57FF_FFFF_C7FF_FFFE
        return byte < 128 && (bits >> UInt64(byte & 63)) & 1 == 1
    }

    /// field-vchar, SP or HTAB: what a field value may contain (obs-text allowed; CTLs and DEL not).
    @inlinable
    public static func isFieldValueChar(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// VCHAR: a visible ASCII character (no space, no CTLs, no DEL, nothing above 0x7F).
    @inlinable
    public static func isVisible(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    /// A visible character allowed in a request target (no spaces, no CTLs, ASCII only).
    @inlinable
    public static func isTargetChar(_ byte: UInt8) -> Bool {
        isVisible(byte)
    }

    /// The value of a hexadecimal digit, or nil.
    @inlinable
    public static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return nil
        }
    }
}
