/// Byte-level ASCII helpers for header parsing on the request path (no `Character` or locale work).
enum ASCII {
    /// `byte` lower-cased when it is an ASCII capital letter.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Whether `text` equals `lowercaseName` ignoring ASCII case; `lowercaseName` must be lower-case.
    static func equalsIgnoringCase(_ text: ArraySlice<UInt8>, _ lowercaseName: [UInt8]) -> Bool {
        guard text.count == lowercaseName.count else { return false }
        var index = text.startIndex
        for expected in lowercaseName {
            guard lowercased(text[index]) == expected else { return false }
            index += 1
        }
        return true
    }

    /// Whether the string `text` equals `lowercaseName` ignoring ASCII case; `lowercaseName` must be lower-case.
    static func equalsIgnoringCase(_ text: String, _ lowercaseName: [UInt8]) -> Bool {
        guard text.utf8.count == lowercaseName.count else { return false }
        var index = 0
        for byte in text.utf8 {
            guard lowercased(byte) == lowercaseName[index] else { return false }
            index += 1
        }
        return true
    }

    /// Whether `byte` is a space or a horizontal tab (HTTP optional white space).
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09
    }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isSpace(first) { slice.removeFirst() }
        while let last = slice.last, isSpace(last) { slice.removeLast() }
        return slice
    }
}
