import Foundation
import VippsCrypto

/// The event id the contract gives a body, computed here from the contract alone (Foundation's JSON parser, not the
/// daemon's decoder): for an ePayment body (a known `name` with `reference`, no `eventType`) whose `msn`,
/// `reference`, `pspReference` and `name` are non-empty strings, the hex SHA-256 of the tag
/// `vipps-webhookd/event-id/epayment/v1` and those four values, each preceded by its UTF-8 byte count as a big-endian
/// `u32`; for any other body, the hex SHA-256 of its bytes.
enum ExpectedEventID {
    static let ePaymentNames: Set<String> = [
        "CREATED", "ABORTED", "EXPIRED", "CANCELLED", "CAPTURED", "REFUNDED", "AUTHORIZED", "TERMINATED",
    ]

    static func of(_ body: String) -> String { of(Array(body.utf8)) }

    static func of(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            object["eventType"] == nil,
            let name = object["name"] as? String, ePaymentNames.contains(name),
            let msn = object["msn"] as? String, let reference = object["reference"] as? String,
            let pspReference = object["pspReference"] as? String,
            ![msn, reference, pspReference].contains(where: \.isEmpty)
        {
            return ofPayment(msn: msn, reference: reference, pspReference: pspReference, name: name)
        }
        return Digest.hex(Digest.sha256(body))
    }

    static func ofPayment(msn: String, reference: String, pspReference: String, name: String) -> String {
        var bytes: [UInt8] = []
        for field in ["vipps-webhookd/event-id/epayment/v1", msn, reference, pspReference, name] {
            let utf8 = Array(field.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes += $0 }
            bytes += utf8
        }
        return Digest.hex(Digest.sha256(bytes))
    }
}
