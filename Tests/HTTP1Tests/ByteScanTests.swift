import TestSupport
import Testing

@testable import HTTP1

/// The word-at-a-time searches against the plain byte loops they replace: random buffers rich in the bytes near
/// the bounds (controls, CR, LF, tab, DEL, bytes above 0x7F), searched from every start to every end.
@Suite struct ByteScanTests {
    private static let interesting: [UInt8] = [0x00, 0x09, 0x0A, 0x0B, 0x0D, 0x0E, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xFF]

    private func randomBuffer(_ random: inout SplitMix) -> [UInt8] {
        let count = Int(random.next() % 40)
        return (0..<count).map { _ in
            random.next() % 4 == 0
                ? Self.interesting[Int(random.next() % UInt64(Self.interesting.count))]
                : UInt8(truncatingIfNeeded: random.next())
        }
    }

    @Test func theSearchesFindWhatTheByteLoopsFind() {
        var random = SplitMix(seed: 19)
        for _ in 0..<200 {
            let bytes = randomBuffer(&random)
            bytes.withUnsafeBufferPointer { buffer in
                for start in 0...buffer.count {
                    for end in start...buffer.count {
                        let lineBreak =
                            buffer[start..<end].firstIndex { $0 == ASCII.cr || $0 == ASCII.lf } ?? end
                        #expect(ByteScan.firstLineBreak(buffer, from: start, to: end) == lineBreak)
                        let nonValue = buffer[start..<end].firstIndex { !ASCII.isFieldValueChar($0) } ?? end
                        #expect(ByteScan.firstNonFieldValueByte(buffer, from: start, to: end) == nonValue)
                    }
                }
            }
        }
    }

    @Test func everyByteValueIsClassifiedAtEveryPositionOfAWord() {
        for byte in UInt8.min...UInt8.max {
            for position in 0..<16 {
                var bytes = [UInt8](repeating: 0x61, count: 16)
                bytes[position] = byte
                bytes.withUnsafeBufferPointer { buffer in
                    let isBreak = byte == ASCII.cr || byte == ASCII.lf
                    #expect(ByteScan.firstLineBreak(buffer, from: 0, to: 16) == (isBreak ? position : 16))
                    let isValue = ASCII.isFieldValueChar(byte)
                    #expect(ByteScan.firstNonFieldValueByte(buffer, from: 0, to: 16) == (isValue ? 16 : position))
                }
            }
        }
    }
}
