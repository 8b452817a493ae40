import Foundation
import Testing
import VippsCrypto

/// Base64 and the constant-time comparison each have a form compiled for the daemon's types (arrays, strings) next
/// to the generic one; both forms must give the same answers, and base64 the RFC 4648 text.
@Suite("crypto helpers: the concrete forms agree with the generic ones")
struct CryptoFormsTests {
    @Test("base64 of every length 0...70, from an array, a slice and a lazy collection, equals Foundation's")
    func base64Forms() {
        var generator = SystemRandomNumberGenerator()
        for count in 0...70 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
            #expect(Base64.encode(bytes) == expected)
            #expect(Base64.encode(([0] + bytes)[1...]) == expected)
            #expect(Base64.encode(bytes.lazy.map { $0 }) == expected)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    @Test("strings and bytes compare alike: equal, a different byte at every place, other lengths, non-ASCII")
    func constantTimeForms() {
        let base = "R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="
        #expect(ConstantTime.equal(base, base) && ConstantTime.equal(Array(base.utf8), Array(base.utf8)))
        #expect(ConstantTime.equal("", "") && ConstantTime.equal([UInt8](), [UInt8]()))
        for place in base.utf8.indices {
            var changed = Array(base.utf8)
            let offset = base.utf8.distance(from: base.utf8.startIndex, to: place)
            changed[offset] ^= 0x01
            let text = String(decoding: changed, as: UTF8.self)
            #expect(!ConstantTime.equal(base, text), "byte \(offset)")
            #expect(!ConstantTime.equal(Array(base.utf8), changed), "byte \(offset)")
        }
        #expect(!ConstantTime.equal(base, String(base.dropLast())))
        #expect(!ConstantTime.equal(base, base + "="))
        #expect(ConstantTime.equal("æøå", "æøå") && !ConstantTime.equal("æøå", "aoa"))
        #expect(!ConstantTime.equal("e\u{301}", "\u{E9}"), "bytes, not canonical equivalence")
    }
}
