/// Why a body is not acceptable JSON, and where (byte offset from the start of the input).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        /// The input ended inside a value (or was empty).
        case unexpectedEnd
        /// A byte that cannot start or continue a value here.
        case unexpectedByte(UInt8)
        /// A complete value followed by something other than whitespace.
        case trailingData
        /// A number that breaks the RFC 8259 grammar or has an out-of-range exponent.
        case invalidNumber
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uHHHH` (H a hex digit).
        case invalidEscape
        /// A `\u` escape of a UTF-16 surrogate without its partner.
        case loneSurrogate
        /// A raw control character (below U+0020) inside a string.
        case controlCharacterInString
        /// Bytes inside a string that are not well-formed UTF-8.
        case invalidUTF8
        /// Arrays and objects nested deeper than the parser's limit.
        case tooDeep(limit: Int)
        /// An object with the same member name twice (ambiguous for money fields, so refused).
        case duplicateKey(String)
    }

    /// What went wrong.
    public var reason: Reason
    /// Byte offset at which the problem was found.
    public var offset: Int

    /// Creates an error.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte(let byte): what = "unexpected byte 0x" + String(byte, radix: 16, uppercase: true)
        case .trailingData: what = "data after the JSON value"
        case .invalidNumber: what = "invalid number"
        case .invalidEscape: what = "invalid escape sequence"
        case .loneSurrogate: what = "unpaired UTF-16 surrogate escape"
        case .controlCharacterInString: what = "unescaped control character in string"
        case .invalidUTF8: what = "invalid UTF-8 in string"
        case .tooDeep(let limit): what = "nesting deeper than \(limit)"
        case .duplicateKey: what = "duplicate object key"
        }
        return "invalid JSON at byte \(offset): \(what)"
    }
}
