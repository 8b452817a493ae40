import VippsCrypto

/// Realistic sample bodies for every known event type, for `vipps-webhookd send --event TYPE`.
///
/// Every sample decodes to its own type with no findings (given a valid `msn`); ids and references come from the
/// random source, so two calls give different events; timestamps come from `now`.
public enum SampleEvents {
    /// All 20 known event types, grouped by family.
    public static let knownTypes: [String] =
        EPaymentEvent.Name.allCases.map(\.eventType)
        + RecurringAgreementEvent.Kind.allCases.map(\.eventType)
        + RecurringChargeEvent.Kind.allCases.map(\.eventType)
        + [QRCheckInEvent.eventType, LoginPingEvent.eventType]

    /// A compact JSON body for `type`, or `nil` when the type is not in ``knownTypes``.
    /// - Parameters:
    ///   - type: an event type from ``knownTypes``.
    ///   - now: the current time in milliseconds since 1970-01-01T00:00:00Z, for the timestamp fields.
    ///   - msn: merchant serial number to put in the body (4–10 digits).
    ///   - randomBytes: returns exactly that many random bytes (the daemon passes `SecureRandom.bytes`).
    public static func body(
        for type: String,
        now: Int64,
        msn: String = "123456",
        randomBytes: (Int) -> [UInt8]
    ) -> [UInt8]? {
        let members: [JSONMember]
        if let name = EPaymentEvent.Name.allCases.first(where: { $0.eventType == type }) {
            members = ePayment(name, now: now, msn: msn, randomBytes: randomBytes)
        } else if let kind = RecurringAgreementEvent.Kind.allCases.first(where: { $0.eventType == type }) {
            members = agreement(kind, now: now, msn: msn, randomBytes: randomBytes)
        } else if let kind = RecurringChargeEvent.Kind.allCases.first(where: { $0.eventType == type }) {
            members = charge(kind, now: now, msn: msn, randomBytes: randomBytes)
        } else if type == QRCheckInEvent.eventType {
            members = [
                JSONMember("customerToken", .string(base62(randomBytes(24)))),
                JSONMember("merchantQrId", .string(uuid(randomBytes(16)))),
                JSONMember("msn", .string(msn)),
                JSONMember(
                    "initiatedAt",
                    .string(EventTimestamp.format(millisecondsSinceEpoch: now, fractionDigits: 7))
                ),
            ]
        } else if type == LoginPingEvent.eventType {
            members = [JSONMember("auth_req_id", .string(base62(randomBytes(24))))]
        } else {
            return nil
        }
        return JSONValue.object(members).compactBytes
    }

    private static let sampleAmount = JSONValue.number(JSONNumber(49900))

    private static func ePayment(
        _ name: EPaymentEvent.Name,
        now: Int64,
        msn: String,
        randomBytes: (Int) -> [UInt8]
    ) -> [JSONMember] {
        [
            JSONMember("msn", .string(msn)),
            JSONMember("reference", .string("sample-" + Digest.hex(randomBytes(8)))),
            JSONMember("pspReference", .string(uuid(randomBytes(16)))),
            JSONMember("name", .string(name.rawValue)),
            JSONMember("amount", .object([JSONMember("currency", .string("NOK")), JSONMember("value", sampleAmount)])),
            JSONMember("timestamp", .string(EventTimestamp.format(millisecondsSinceEpoch: now))),
            JSONMember("idempotencyKey", .string(uuid(randomBytes(16)))),
            JSONMember("success", .bool(true)),
        ]
    }

    private static func agreement(
        _ kind: RecurringAgreementEvent.Kind,
        now: Int64,
        msn: String,
        randomBytes: (Int) -> [UInt8]
    ) -> [JSONMember] {
        [
            JSONMember("agreementId", .string("agr_" + base62(randomBytes(6)))),
            JSONMember("agreementUUID", .string(uuid(randomBytes(16)))),
            JSONMember("agreementExternalId", .null),
            JSONMember("occurred", .string(EventTimestamp.format(millisecondsSinceEpoch: now))),
            JSONMember("actor", kind == .stopped ? .string("USER") : .null),
            JSONMember("msn", .string(msn)),
            JSONMember("eventType", .string(kind.eventType)),
        ]
    }

    private static func charge(
        _ kind: RecurringChargeEvent.Kind,
        now: Int64,
        msn: String,
        randomBytes: (Int) -> [UInt8]
    ) -> [JSONMember] {
        var members = [
            JSONMember("agreementId", .string("agr_" + base62(randomBytes(6)))),
            JSONMember("chargeId", .string("chr-" + base62(randomBytes(6)))),
            JSONMember("chargeExternalId", .null),
            JSONMember("amount", sampleAmount),
            JSONMember("currency", .string("NOK")),
            JSONMember("chargeType", .string("RECURRING")),
            JSONMember("occurred", .string(EventTimestamp.format(millisecondsSinceEpoch: now))),
            JSONMember("msn", .string(msn)),
            JSONMember("eventType", .string(kind.eventType)),
        ]
        let transaction = JSONMember("transactionId", .string(uuid(randomBytes(16))))
        switch kind {
        case .reserved: members.append(transaction)
        case .captured: members += [JSONMember("amountCaptured", sampleAmount), transaction]
        case .canceled: members += [JSONMember("amountCanceled", sampleAmount), transaction]
        case .refunded: members += [JSONMember("amountRefunded", sampleAmount), transaction]
        case .failed: break
        case .creationFailed:
            // As on the vendor's events page: a creation that failed async validation has no charge id yet, and
            // failureCode is a number.
            members.removeAll { $0.key == "chargeId" }
            members.append(JSONMember("failureCode", .number(JSONNumber(50003))))
            members.append(JSONMember("failureText", .string("AgreementNotActive")))
        }
        return members
    }

    /// A version 4 UUID in lower-case 8-4-4-4-12 form from 16 random bytes.
    private static func uuid(_ random: [UInt8]) -> String {
        precondition(random.count == 16, "randomBytes returned \(random.count) bytes instead of 16")
        var bytes = random
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let text = Digest.hex(bytes)
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(text.utf8.dropFirst(range.lowerBound).prefix(range.count))!
        }
        return parts.joined(separator: "-")
    }

    /// Alphanumeric text, one character per random byte (slight modulo bias is fine for sample ids).
    private static func base62(_ random: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return String(decoding: random.map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
    }
}
