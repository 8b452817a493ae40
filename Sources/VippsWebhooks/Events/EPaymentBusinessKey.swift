import VippsCrypto

/// What identifies one ePayment event whatever way it arrived: merchant serial number, payment reference, the
/// vendor's reference of the operation, and the event name (`CAPTURED`, …).
///
/// A webhook body carries all four; an entry of the payment's event log carries the last three, and the daemon adds
/// the `msn` it asked for, so both give the same key.
public struct EPaymentBusinessKey: Sendable, Equatable {
    /// `msn`.
    public var msn: String
    /// `reference`.
    public var reference: String
    /// `pspReference`.
    public var pspReference: String
    /// `name`, as sent (e.g. `CAPTURED`).
    public var name: String

    /// Creates a key from its four values.
    public init(msn: String, reference: String, pspReference: String, name: String) {
        self.msn = msn
        self.reference = reference
        self.pspReference = pspReference
        self.name = name
    }

    /// The key of `decoded` when it is an ePayment event whose `msn`, `reference`, `pspReference` and `name` are all
    /// non-empty strings; nil otherwise (the event is then identified by its body hash).
    public init?(_ decoded: DecodedEvent) {
        guard case .ePayment = decoded.family, let json = decoded.json else { return nil }
        func text(_ field: String) -> String? {
            guard let value = json[field]?.stringValue, !value.isEmpty else { return nil }
            return value
        }
        guard let msn = text("msn"), let reference = text("reference"), let pspReference = text("pspReference"),
            let name = text("name")
        else { return nil }
        self.init(msn: msn, reference: reference, pspReference: pspReference, name: name)
    }

    /// Separates these ids from those of any other scheme or version.
    static let domain = "vipps-webhookd/event-id/epayment/v1"

    /// The event id: the lowercase hex SHA-256 of the key's canonical bytes — the domain tag and the four values, each
    /// as a big-endian `u32` byte count followed by its UTF-8 bytes, so no two keys share them. Built in a temporary
    /// buffer (on the stack when small), as nothing else needs them.
    public var id: String {
        let texts = msn.utf8.count + reference.utf8.count + pspReference.utf8.count + name.utf8.count
        let count = 20 + Self.domain.utf8.count + texts
        return withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { buffer in
            // The offset is threaded through, not captured: a captured variable is checked for exclusive access at
            // run time on every use.
            var offset = Self.put(Self.domain, into: buffer, at: 0)
            offset = Self.put(msn, into: buffer, at: offset)
            offset = Self.put(reference, into: buffer, at: offset)
            offset = Self.put(pspReference, into: buffer, at: offset)
            _ = Self.put(name, into: buffer, at: offset)
            return Digest.sha256Hex(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Writes `field` as the canonical bytes take it (a big-endian `u32` byte count, then its UTF-8) into `buffer` at
    /// `offset`; returns the offset after it.
    private static func put(_ field: String, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let count = field.utf8.count
        buffer.storeBytes(of: UInt32(truncatingIfNeeded: count).bigEndian, toByteOffset: offset, as: UInt32.self)
        // From the string's UTF-8 view in place (a copy of the string, to reach its buffer, would retain it).
        let text = UnsafeMutableRawBufferPointer(rebasing: buffer[(offset + 4)...])
        _ = text.initializeMemory(as: UInt8.self, fromContentsOf: field.utf8)
        return offset + 4 + count
    }
}
