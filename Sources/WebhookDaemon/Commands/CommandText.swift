import Glibc

/// Text helpers of the commands' output, the few Foundation string APIs the commands used, written out so the
/// binary does not need Foundation.
extension String {
    /// The string without the leading and trailing Unicode scalars `isTrimmed` accepts (what
    /// `trimmingCharacters(in:)` does).
    func trimmingScalars(where isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
            let last = scalars.lastIndex(where: { !isTrimmed($0) })
        else { return "" }
        return String(scalars[first...last])
    }

    /// The string followed by spaces up to `length` characters; unchanged when it is that long already.
    func paddedWithSpaces(toLength length: Int) -> String {
        self + String(repeating: " ", count: max(0, length - count))
    }
}

extension Unicode.Scalar {
    /// Tab and the space separators: the members of Foundation's `CharacterSet.whitespaces` (which includes U+200B
    /// ZERO WIDTH SPACE).
    var isFoundationWhitespace: Bool {
        switch value {
        case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    /// ``isFoundationWhitespace`` or a line break (U+000A to U+000D, U+0085, U+2028, U+2029): the members of
    /// Foundation's `CharacterSet.whitespacesAndNewlines`.
    var isFoundationWhitespaceOrNewline: Bool {
        switch value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: isFoundationWhitespace
        }
    }
}

/// `value` with `digits` digits after the point, rounded as printf's `%.<digits>f` does (the C library formats it,
/// so the text is the one `String(format:)` gave).
func fixedPoint(_ value: Double, digits: Int) -> String {
    // 309 integer digits for the largest Double, a sign, a point and the fraction.
    var buffer = [UInt8](repeating: 0, count: 320 + digits)
    let length = buffer.withUnsafeMutableBufferPointer { raw in
        raw.withMemoryRebound(to: CChar.self) { text in
            withVaList([value]) { vsnprintf(text.baseAddress, text.count, "%.\(digits)f", $0) }
        }
    }
    return String(decoding: buffer.prefix(max(0, min(Int(length), buffer.count - 1))), as: UTF8.self)
}
