import Testing

@testable import EventStore

/// Lines the ledger wrote are read without a JSON tree; every line must read exactly as the JSON parser reads it.
@Suite struct PaymentLineReaderTests {
    /// `line` (a JSON object) with the checksum member this version ends its lines with.
    static func withChecksum(_ line: [UInt8]) -> [UInt8] {
        var closed = Array(line.dropLast())  // its closing brace
        PaymentLineChecksum.close(&closed, lineStart: 0)
        return closed
    }

    @Test("a written line reads back the same; without escapes it is read without the JSON parser")
    func writtenLinesReadBack() {
        for observation in PaymentLedgerLineTests.samples {
            let line = observation.line.dropLast()
            #expect(PaymentObservation(line: line) == observation)
            let escaped = line.contains(UInt8(ascii: "\\"))
            #expect((PaymentLineReader.observation(line) == nil) == escaped, "\(observation)")
        }
    }

    @Test("every damaged, reordered or reformatted line reads as the JSON parser reads it, and has its payment key")
    func anyLineReadsAsJSONDoes() {
        var differences: [String] = []
        // In a file of this version (a line needs its checksum) and in an earlier version's (none needed).
        func compare(_ line: [UInt8]) {
            for earlierVersion in [false, true] {
                let read = PaymentObservation(line: line[...], earlierVersion: earlierVersion)
                let parsed = PaymentObservation(parsingJSON: line[...], earlierVersion: earlierVersion)
                let key = PaymentLineReader.paymentKey(line[...], earlierVersion: earlierVersion)
                if read != parsed || key != parsed.map({ PaymentKey(msn: $0.msn, reference: $0.reference) }) {
                    differences.append(String(decoding: line, as: UTF8.self))
                }
            }
        }
        for observation in PaymentLedgerLineTests.samples {
            let line = Array(observation.line.dropLast())
            for index in line.indices {
                for change: UInt8 in [0x01, 0x20, 0x80] {
                    var flipped = line
                    flipped[index] ^= change
                    compare(flipped)
                }
                var removed = line
                removed.remove(at: index)
                compare(removed)
                var spaced = line
                spaced.insert(UInt8(ascii: " "), at: index)
                compare(spaced)
                compare(Array(line[..<index]))
            }
        }
        let other: [String] = [
            #"{"reference":"r","msn":"1","pspReference":"p","name":"CAPTURED","success":true,"endpoint":"/e","at":5}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":-0}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":007}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1.5}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1e3}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":9223372036854775808}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":-9223372036854775809}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":18446744073709551616}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1,"amount":null}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1,"extra":2}"#,
            #"{"msn":"1","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1}x"#,
            #"{"msn":"1","msn":"2","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1}"#,
            #"{"msn":"\u0041","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1}"#,
        ]
        for line in other {
            compare(Array(line.utf8))
            compare(Self.withChecksum(Array(line.utf8)))
        }
        let rest = #"","reference":"r","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1}"#
        compare(Array(#"{"msn":""#.utf8) + [0xC3, 0x28] + Array(rest.utf8))  // invalid UTF-8
        #expect(differences.isEmpty, "\(differences.prefix(5))")
    }

    @Test("a byte the reader must stop at, at every position of a long text, reads as the JSON parser reads it")
    func specialBytesAtEveryPosition() {
        var differences: [String] = []
        let head = Array(#"{"msn":"123456","reference":""#.utf8)
        let tail = Array(#"","pspReference":"p","name":"N","success":true,"endpoint":"/e","at":1,"amount":7}"#.utf8)
        let specials: [[UInt8]] = [[0x22], [0x5C], [0x5C, 0x22], [0x01], [0x7F], [0xC3, 0xA5], [0xFF], [0xC3]]
        for position in 0..<26 {
            for special in specials {
                let text = Array(repeating: UInt8(ascii: "a"), count: position) + special + Array("bcdefghij".utf8)
                let line = Self.withChecksum(head + text + tail)[...]
                let parsed = PaymentObservation(parsingJSON: line)
                let key = PaymentLineReader.paymentKey(line)
                if PaymentObservation(line: line) != parsed
                    || key != parsed.map({ PaymentKey(msn: $0.msn, reference: $0.reference) })
                {
                    differences.append("\(position) \(special)")
                }
            }
        }
        #expect(differences.isEmpty, "\(differences.prefix(5))")
        let plain = Self.withChecksum(head + Array("abcdefghijklmnopqrstuvwxyz".utf8) + tail)
        let expected = PaymentKey(msn: "123456", reference: "abcdefghijklmnopqrstuvwxyz")
        #expect(PaymentLineReader.paymentKey(plain[...]) == expected)
        // Read by the byte path, not the JSON parser's fallback.
        #expect(plain.withUnsafeBufferPointer { PaymentLineReader.fields(in: $0) } != nil)
    }
}
