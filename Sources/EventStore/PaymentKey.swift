import Glibc
import HTTP1

/// A payment's identity in the payment ledger's table: its msn and reference.
///
/// Sixteen bytes in the table: a hash of the two texts, computed once, and a reference to one heap object
/// holding both texts' UTF-8 and the msn's length (24 bytes of header, no terminator). The table hashes only the
/// number: a lookup, and a deletion (which rehashes the keys after the hole, one deletion for each new payment at
/// the ledger's bound), never read a key's text, which lies elsewhere in the heap (a cache miss each). Keys are
/// equal when their bytes are (no Unicode normalization, as in the ledger's file and the vendor's API); the msn's
/// length keeps every pair apart, whatever bytes either holds.
struct PaymentKey: Hashable, @unchecked Sendable {
    private let text: PaymentKeyText
    private let textHash: Int

    /// The key of the payment `msn`/`reference`.
    init(msn: String, reference: String) {
        self = msn.withUTF8Bytes { msn in reference.withUTF8Bytes { PaymentKey(msnUTF8: msn, referenceUTF8: $0) } }
    }

    /// The key of the payment whose msn and reference are the UTF-8 bytes `msnUTF8` and `referenceUTF8`.
    init(msnUTF8: UnsafeBufferPointer<UInt8>, referenceUTF8: UnsafeBufferPointer<UInt8>) {
        let count = msnUTF8.count + referenceUTF8.count
        let lengths = PaymentKeyText.Lengths(msn: UInt32(msnUTF8.count), total: UInt32(count))
        let created = PaymentKeyText.create(minimumCapacity: count) { _ in lengths }
        text = unsafeDowncast(created, to: PaymentKeyText.self)
        // Swift's seeded hasher (SipHash, a random seed per process), as the table would have used on the texts:
        // keys whose hashes collide cannot be made up in advance.
        var hasher = Hasher()
        hasher.combine(msnUTF8.count)
        text.withUnsafeMutablePointerToElements { elements in
            let initialized = UnsafeMutableBufferPointer(start: elements, count: count)
            let msnEnd = initialized.initialize(fromContentsOf: msnUTF8)
            _ = UnsafeMutableBufferPointer(rebasing: initialized[msnEnd...]).initialize(fromContentsOf: referenceUTF8)
            hasher.combine(bytes: UnsafeRawBufferPointer(initialized))
        }
        textHash = hasher.finalize()
    }

    static func == (left: PaymentKey, right: PaymentKey) -> Bool {
        left.textHash == right.textHash && left.text.bytesEqual(right.text)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(textHash)
    }

    /// What the table hashes: the texts' hash (SipHash, seeded per process, computed once) mixed with the table's
    /// seed, instead of that number put through SipHash again on every lookup and on every key a deletion moves (at
    /// the ledger's bound each new payment deletes one, moving the run of keys after it at a load of 3/4: `_delete`
    /// was 1.3% of the daemon's CPU under load, most of it in `Hasher`).
    func _rawHashValue(seed: Int) -> Int {
        textHash ^ seed
    }

    /// The msn, as given.
    var msn: String { text.string(in: .msn) }
    /// The reference, as given.
    var reference: String { text.string(in: .reference) }
}

/// The texts of a ``PaymentKey``: the msn's UTF-8 then the reference's, after a header of their lengths. Never
/// changed after creation.
final class PaymentKeyText: ManagedBuffer<PaymentKeyText.Lengths, UInt8> {
    struct Lengths {
        var msn: UInt32
        var total: UInt32
    }

    enum Part { case msn, reference }

    func bytesEqual(_ other: PaymentKeyText) -> Bool {
        guard header.msn == other.header.msn, header.total == other.header.total else { return false }
        let count = Int(header.total)
        return withUnsafeMutablePointerToElements { mine in
            other.withUnsafeMutablePointerToElements { theirs in
                memcmp(mine, theirs, count) == 0
            }
        }
    }

    func string(in part: Part) -> String {
        let msnCount = Int(header.msn)
        let range = part == .msn ? 0..<msnCount : msnCount..<Int(header.total)
        return withUnsafeMutablePointerToElements { elements in
            String(decoding: UnsafeBufferPointer(start: elements + range.lowerBound, count: range.count), as: UTF8.self)
        }
    }
}
