import Dispatch
import Synchronization
import Testing
import VippsCrypto

/// SHA-256 and HMAC-SHA256 reuse their OpenSSL contexts: every result must still be that of a fresh context, in any
/// order of message lengths and from many threads at once.
@Suite struct DigestReuseTests {
    /// RFC 4231 test case 2 (key "Jefe") and a one-block key (test case 1, 0x0b × 20).
    static let hmacCases: [(key: [UInt8], message: String, mac: String)] = [
        (
            Array("Jefe".utf8), "what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            [UInt8](repeating: 0x0b, count: 20), "Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
    ]
    /// FIPS 180-2 and well-known SHA-256 answers, the empty message included.
    static let sha256Cases: [(message: String, digest: String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ]

    @Test("one key's MAC, asked again and again between other messages, is the RFC 4231 answer each time")
    func hmacStartsOverForEveryMessage() {
        for (key, message, mac) in Self.hmacCases {
            let prepared = HMACKey(key)
            for round in 0..<5 {
                _ = prepared.authenticationCode(for: [UInt8](repeating: UInt8(round), count: round * 100))
                #expect(Digest.hex(prepared.authenticationCode(for: Array(message.utf8))) == mac, "round \(round)")
            }
            #expect(Digest.hex(Digest.hmacSHA256(key: key, message: Array(message.utf8))) == mac)
        }
    }

    @Test("SHA-256 after longer and shorter messages is still the known answer")
    func sha256StartsOverForEveryMessage() {
        for round in 0..<3 {
            for (message, digest) in Self.sha256Cases.shuffled() {
                _ = Digest.sha256([UInt8](repeating: 0x61, count: 1000 * round + 1))
                #expect(Digest.hex(Digest.sha256(Array(message.utf8))) == digest)
            }
        }
    }

    @Test("32 threads hashing and MACing at once with one shared key all get the right answers")
    func concurrentUseGivesTheSameAnswers() {
        let keys = Self.hmacCases.map { HMACKey($0.key) }
        let wrong = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 32) { thread in
            for round in 0..<200 {
                let hmac = Self.hmacCases[(thread + round) % Self.hmacCases.count]
                let key = keys[(thread + round) % keys.count]
                if Digest.hex(key.authenticationCode(for: Array(hmac.message.utf8))) != hmac.mac {
                    wrong.add(1, ordering: .relaxed)
                }
                let sha = Self.sha256Cases[(thread * 7 + round) % Self.sha256Cases.count]
                if Digest.hex(Digest.sha256(Array(sha.message.utf8))) != sha.digest { wrong.add(1, ordering: .relaxed) }
            }
        }
        #expect(wrong.load(ordering: .relaxed) == 0)
    }
}
