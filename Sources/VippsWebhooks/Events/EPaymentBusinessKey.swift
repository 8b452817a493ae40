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

    /// The unambiguous bytes that are hashed: the domain tag and the four values, each as a big-endian `u32` byte
    /// count followed by its UTF-8 bytes.
    public var canonicalBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            20 + Self.domain.utf8.count + msn.utf8.count + reference.utf8.count + pspReference.utf8.count
                + name.utf8.count
        )
        for field in [Self.domain, msn, reference, pspReference, name] {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: field.utf8.count).bigEndian) { bytes += $0 }
            bytes += field.utf8
        }
        return bytes
    }

    /// The event id: the lowercase hex SHA-256 of ``canonicalBytes``.
    public var id: String {
        Digest.hex(Digest.sha256(canonicalBytes))
    }
}
