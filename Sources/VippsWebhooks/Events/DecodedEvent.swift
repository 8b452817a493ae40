/// A webhook body decoded as far as it goes: its type, typed fields when the family is known, the JSON object, and
/// findings about documented constraints. Decoding never fails: anything unrecognised is type ``unknownType``.
public struct DecodedEvent: Sendable, Equatable {
    /// The type of events of no known type (and of bodies that are not JSON objects).
    public static let unknownType = "unknown"

    /// The fields, in one immutable heap object: a decoded event is handed to the store's completion, the answer's
    /// completion, the dispatcher and its sinks, and each copy then costs one reference count, not one for every
    /// string of the typed fields and the JSON tree (about a dozen for an ePayment event).
    private final class Fields: Sendable {
        let type: String
        let family: EventFamily
        let json: JSONValue?
        let parseError: JSONParseError?
        let findings: [EventFinding]

        init(type: String, family: EventFamily, json: JSONValue?, parseError: JSONParseError?, findings: [EventFinding])
        {
            self.type = type
            self.family = family
            self.json = json
            self.parseError = parseError
            self.findings = findings
        }
    }

    private let fields: Fields

    /// The event type, e.g. `epayments.payment.captured.v1`, or ``unknownType``.
    public var type: String { fields.type }
    /// The family with its typed fields.
    public var family: EventFamily { fields.family }
    /// The body when it is a JSON object (also for unknown types); `nil` when not JSON or not an object.
    public var json: JSONValue? { fields.json }
    /// Why the body is not JSON, when it is not.
    public var parseError: JSONParseError? { fields.parseError }
    /// Documented constraints the body does not meet, plus string fields holding NUL characters.
    public var findings: [EventFinding] { fields.findings }

    /// An event with these fields.
    init(type: String, family: EventFamily, json: JSONValue?, parseError: JSONParseError?, findings: [EventFinding]) {
        fields = Fields(type: type, family: family, json: json, parseError: parseError, findings: findings)
    }

    /// Whether every field is equal (at once when both are copies of one decoded event).
    public static func == (left: DecodedEvent, right: DecodedEvent) -> Bool {
        left.fields === right.fields
            || (left.type == right.type && left.family == right.family && left.json == right.json
                && left.parseError == right.parseError && left.findings == right.findings)
    }

    /// Events with the same key must be delivered in arrival order; `nil` = no ordering constraint.
    /// ePayment: `msn + "/" + reference`; Recurring (agreement and charge): `agreementId`; others `nil`.
    public var orderingKey: String? {
        switch family {
        case .ePayment(let event):
            guard let msn = event.msn, let reference = event.reference else { return nil }
            return msn + "/" + reference
        case .recurringAgreement(let event): return event.agreementId
        case .recurringCharge(let event): return event.agreementId
        case .qrCheckIn, .loginPing, .unknown: return nil
        }
    }

    /// Decodes a webhook body.
    ///
    /// The type comes from the body only: a string `eventType` naming a known Recurring type; else a known ePayment
    /// `name` (`CREATED`, …) with a `reference` or `pspReference` field; else `customerToken` and `merchantQrId`
    /// (QR check-in); else `auth_req_id` (Login ping). Everything else, including an `eventType` in `recurring.`
    /// that names no known type (a Recurring event of a kind added since), is ``unknownType``. Any other `eventType`
    /// is a field the other products do not define, ignored as the vendor asks of unknown fields: an ePayment body
    /// that came to carry one stays an ePayment event, with its routes, order and id.
    public static func decode(body: some Collection<UInt8>) -> DecodedEvent {
        let value: JSONValue
        let hasNUL: Bool
        do {
            (value, hasNUL) = try JSONParser.parseNoticingNUL(body)
        } catch {
            return DecodedEvent(type: unknownType, family: .unknown, json: nil, parseError: error, findings: [])
        }
        guard let members = value.objectMembers else {
            return DecodedEvent(type: unknownType, family: .unknown, json: nil, parseError: nil, findings: [])
        }
        var findings: [EventFinding] = []
        let family = recognise(value, findings: &findings)
        if hasNUL {
            for member in members {
                if case .string(var text) = member.value, text.withUTF8({ $0.contains(0) }) {
                    findings.append(EventFinding(field: member.key, problem: .containsNUL))
                }
            }
        }
        return DecodedEvent(type: family.type, family: family, json: value, parseError: nil, findings: findings)
    }

    private static func recognise(_ object: JSONValue, findings: inout [EventFinding]) -> EventFamily {
        if let text = object["eventType"]?.stringValue {
            if let kind = recurringAgreementKinds[text] {
                return .recurringAgreement(RecurringAgreementEvent.decode(object, kind: kind, findings: &findings))
            }
            if let kind = recurringChargeKinds[text] {
                return .recurringCharge(RecurringChargeEvent.decode(object, kind: kind, findings: &findings))
            }
            if text.hasPrefix("recurring.") { return .unknown }
        }
        if let nameText = object["name"]?.stringValue, let name = EPaymentEvent.Name(rawValue: nameText),
            object["reference"] != nil || object["pspReference"] != nil
        {
            return .ePayment(EPaymentEvent.decode(object, name: name, findings: &findings))
        }
        if object["customerToken"] != nil && object["merchantQrId"] != nil {
            return .qrCheckIn(QRCheckInEvent.decode(object, findings: &findings))
        }
        if object["auth_req_id"] != nil {
            return .loginPing(LoginPingEvent.decode(object, findings: &findings))
        }
        return .unknown
    }

    private static let recurringAgreementKinds = Dictionary(
        uniqueKeysWithValues: RecurringAgreementEvent.Kind.allCases.map { ($0.eventType, $0) }
    )
    private static let recurringChargeKinds = Dictionary(
        uniqueKeysWithValues: RecurringChargeEvent.Kind.allCases.map { ($0.eventType, $0) }
    )
}
