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

    @Test("digests written to a temporary buffer give the text of the array forms: SHA-256 hex and base64, HMAC base64")
    func textOfDigests() {
        var generator = SystemRandomNumberGenerator()
        let key = HMACKey(Array("registration secret".utf8))
        for count in [0, 1, 31, 32, 33, 55, 56, 63, 64, 65, 1000, 70_000] {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let digest = Digest.sha256(bytes)
            #expect(Digest.sha256Hex(bytes) == Digest.hex(digest))
            #expect(Digest.sha256Base64(bytes) == Data(digest).base64EncodedString())
            #expect(Digest.sha256Base64(bytes[...]) == Data(digest).base64EncodedString())
            let mac = key.authenticationCode(for: bytes)
            #expect(key.base64AuthenticationCode(for: bytes) == Data(mac).base64EncodedString())
        }
        // FIPS 180-2's "abc" and RFC 4231 test case 2.
        #expect(Digest.sha256Base64(Array("abc".utf8)) == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        #expect(
            HMACKey(Array("Jefe".utf8)).base64AuthenticationCode(for: Array("what do ya want for nothing?".utf8))
                == Data(
                    [
                        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
                        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
                    ] as [UInt8]
                ).base64EncodedString()
        )
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
