import HTTP1

/// A JSON number kept as its original text (e.g. `49900`, `-0.5`, `1.5e3`).
///
/// Equality (`==`) compares the text; ``hasSameValue(as:)`` compares the mathematical value exactly (no binary
/// floating point involved), so `1.5e3`, `1500` and `1500.0` have the same value.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number's text, valid under the RFC 8259 number grammar.
    public let text: String

    /// Creates a number from text that must match the RFC 8259 number grammar (no leading `+`, no leading zeros,
    /// no bare `.`) with an exponent of at most ``maximumExponentDigits`` significant digits; `nil` otherwise.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard JSONNumber.grammarLength(bytes, from: 0) == bytes.count, !bytes.isEmpty else { return nil }
        self.text = text
    }

    /// Creates the number of an integer.
    public init(_ value: Int64) {
        self.text = String(value)
    }

    /// Wraps text already checked by the parser.
    init(validatedText: String) {
        self.text = validatedText
    }

    /// Longest accepted exponent, in significant digits: larger exponents are rejected as out of range.
    public static let maximumExponentDigits = 9

    public var description: String { text }

    /// The value as an `Int64` when it is an integer in range (`100`, `1e2` and `100.0` all give 100); else `nil`.
    public var int64Value: Int64? {
        if let value = Self.shortInteger(text) { return value }
        let decimal = canonical
        if decimal.digits.isEmpty { return 0 }
        guard decimal.exponent >= 0, decimal.digits.count + decimal.exponent <= 19 else { return nil }
        var magnitude: UInt64 = 0
        for digit in decimal.digits + [UInt8](repeating: 0, count: decimal.exponent) {
            let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (plus, overflow2) = times.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = plus
        }
        if decimal.negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// `text` when it is an integer of at most 18 digits without a leading zero (`-?[1-9][0-9]{0,17}` or `0`),
    /// which cannot overflow; nil for every other form (left to the exact decimal path).
    private static func shortInteger(_ text: String) -> Int64? {
        text.withUTF8Bytes { bytes -> Int64? in
            let negative = bytes.first == UInt8(ascii: "-")
            let digits = UnsafeBufferPointer(rebasing: bytes[(negative ? 1 : 0)...])
            guard let first = digits.first, digits.count <= 18, first != UInt8(ascii: "0") || digits.count == 1
            else { return nil }
            var value: Int64 = 0
            for byte in digits {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return negative ? -value : value
        }
    }

    /// The nearest `Double` (may lose precision; use for display, not comparison).
    public var doubleValue: Double { Double(text) ?? .nan }

    /// Whether both numbers denote the same mathematical value (exact decimal comparison; `-0` equals `0`).
    public func hasSameValue(as other: JSONNumber) -> Bool {
        canonical == other.canonical
    }

    /// Sign, significant digits (no leading or trailing zeros) and decimal exponent: value = ±digits × 10^exponent.
    /// Zero has no digits and is never negative.
    private struct Canonical: Equatable {
        var negative: Bool
        var digits: [UInt8]
        var exponent: Int
    }

    private var canonical: Canonical {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        var digits: [UInt8] = []
        var exponent = 0
        var seenPoint = false
        while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                seenPoint = true
                continue
            }
            if seenPoint { exponent -= 1 }
            if digits.isEmpty && byte == UInt8(ascii: "0") { continue }
            digits.append(byte - UInt8(ascii: "0"))
        }
        if !bytes.isEmpty {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            var written = 0
            for byte in bytes { written = written * 10 + Int(byte - UInt8(ascii: "0")) }
            exponent += exponentNegative ? -written : written
        }
        while digits.last == 0 {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty { return Canonical(negative: false, digits: [], exponent: 0) }
        return Canonical(negative: negative, digits: digits, exponent: exponent)
    }

    /// Length of the number starting at `start` under the RFC 8259 grammar, or `nil` when none starts there or its
    /// exponent is out of range. Stops at the first byte that cannot continue the number.
    static func grammarLength(_ bytes: some RandomAccessCollection<UInt8>, from start: Int) -> Int? {
        let base = bytes.startIndex
        let count = bytes.count
        func at(_ offset: Int) -> UInt8? {
            offset < count ? bytes[bytes.index(base, offsetBy: offset)] : nil
        }
        func isDigit(_ byte: UInt8?) -> Bool {
            guard let byte else { return false }
            return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        }
        var offset = start
        if at(offset) == UInt8(ascii: "-") { offset += 1 }
        if at(offset) == UInt8(ascii: "0") {
            offset += 1
        } else if isDigit(at(offset)) {
            while isDigit(at(offset)) { offset += 1 }
        } else {
            return nil
        }
        if at(offset) == UInt8(ascii: ".") {
            offset += 1
            guard isDigit(at(offset)) else { return nil }
            while isDigit(at(offset)) { offset += 1 }
        }
        if at(offset) == UInt8(ascii: "e") || at(offset) == UInt8(ascii: "E") {
            offset += 1
            if at(offset) == UInt8(ascii: "+") || at(offset) == UInt8(ascii: "-") { offset += 1 }
            guard isDigit(at(offset)) else { return nil }
            var significant = 0
            while isDigit(at(offset)) {
                if significant > 0 || at(offset) != UInt8(ascii: "0") { significant += 1 }
                offset += 1
            }
            guard significant <= maximumExponentDigits else { return nil }
        }
        return offset - start
    }
}
