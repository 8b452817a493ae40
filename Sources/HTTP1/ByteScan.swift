/// Word-at-a-time searches over byte buffers for the parser's hot loops: eight bytes are tested per step with the
/// "has a zero byte" and "has a byte less than n" bit tricks; the word holding a match is then walked byte by byte,
/// so every answer is that of the plain byte loop.
public enum ByteScan {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether some byte of `word` equals `byte`.
    @inlinable
    public static func contains(_ word: UInt64, _ byte: UInt8) -> Bool {
        let difference = word ^ (ones &* UInt64(byte))
        return (difference &- ones) & ~difference & highBits != 0
    }

    /// Whether some byte of `word` is below `bound` (at most 0x80).
    @inlinable
    public static func containsLess(_ word: UInt64, than bound: UInt8) -> Bool {
        (word &- ones &* UInt64(bound)) & ~word & highBits != 0
    }

    /// Whether some byte of `word` is 0x80 or above (not ASCII).
    @inlinable
    public static func containsNonASCII(_ word: UInt64) -> Bool {
        word & highBits != 0
    }

    /// The index of the first CR or LF in `bytes[start..<end]`, or `end`.
    static func firstLineBreak(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        var index = start
        if let base = bytes.baseAddress.map(UnsafeRawPointer.init) {
            while index + 8 <= end {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                // A byte up to CR (0x0D) is rare in a head; the byte loop below tells whether it is CR or LF.
                if containsLess(word, than: ASCII.cr + 1) { break }
                index += 8
            }
        }
        while index < end && bytes[index] != ASCII.cr && bytes[index] != ASCII.lf { index += 1 }
        return index
    }

    /// The index of the first byte in `bytes[start..<end]` that is not a field-value byte
    /// (`ASCII.isFieldValueChar`), or `end`.
    static func firstNonFieldValueByte(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        var index = start
        if let base = bytes.baseAddress.map(UnsafeRawPointer.init) {
            while index + 8 <= end {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                // A control byte (a tab too, which is allowed: the byte loop below tells) or DEL.
                if containsLess(word, than: 0x20) || contains(word, 0x7F) { break }
                index += 8
            }
        }
        while index < end && ASCII.isFieldValueChar(bytes[index]) { index += 1 }
        return index
    }
}
