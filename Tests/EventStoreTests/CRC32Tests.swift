import Testing

@testable import EventStore

@Suite struct CRC32Tests {
    /// Byte-at-a-time reference implementation (bitwise, no tables).
    private func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test func knownVectors() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    /// Slicing-by-8 must equal the bitwise CRC for every length and alignment (the 8-byte loop plus the tail).
    @Test func matchesBitwiseReferenceAtEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var mismatches: [(start: Int, end: Int)] = []
        for start in 0..<9 {
            for end in start...data.count where CRC32.checksum(data[start..<end]) != reference(data[start..<end]) {
                mismatches.append((start, end))
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
