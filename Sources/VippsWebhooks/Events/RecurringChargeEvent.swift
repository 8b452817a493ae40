/// A Recurring charge event (`recurring.charge-<kind>.v1`). Fields are optional; see ``DecodedEvent/findings``.
public struct RecurringChargeEvent: Sendable, Equatable {
    /// What happened to the charge (note `canceled` with one l, as the vendor spells it).
    public enum Kind: String, Sendable, CaseIterable {
        case reserved, captured, canceled, refunded, failed
        case creationFailed = "creation-failed"

        /// The event type string, `recurring.charge-<kind>.v1`.
        public var eventType: String { "recurring.charge-\(rawValue).v1" }
    }

    public var kind: Kind
    public var agreementId: String?
    /// Absent when the charge could not be created.
    public var chargeId: String?
    /// The merchant's own id, `nil` when null or absent.
    public var chargeExternalId: String?
    /// Minor units.
    public var amount: Int64?
    public var currency: String?
    /// `RECURRING`, `INITIAL` or `UNSCHEDULED`.
    public var chargeType: String?
    /// RFC 3339 text as sent.
    public var occurred: String?
    public var amountCaptured: Int64?
    public var amountCanceled: Int64?
    public var amountRefunded: Int64?
    /// Tells apart repeated operations of one kind on one charge (two partial captures, say); nullable, sent since
    /// December 2025.
    public var transactionId: String?
    /// e.g. `50006` (a JSON number on `charge-creation-failed`; a string is accepted too), kept as text.
    public var failureCode: String?
    public var failureText: String?
    public var failureReason: String?
    /// Merchant serial number, when sent.
    public var msn: String?

    static func decode(_ object: JSONValue, kind: Kind, findings: inout [EventFinding]) -> RecurringChargeEvent {
        var reader = FieldReader(object)
        var event = RecurringChargeEvent(kind: kind)
        event.agreementId = reader.string("agreementId", required: true)
        event.chargeId = reader.string("chargeId", required: kind != .creationFailed)
        event.chargeExternalId = reader.string("chargeExternalId")
        event.amount = reader.amount("amount", required: true)
        event.currency = reader.currency("currency", required: true)
        event.chargeType = reader.string("chargeType")
        event.occurred = reader.timestamp("occurred", required: true)
        event.amountCaptured = reader.amount("amountCaptured")
        event.amountCanceled = reader.amount("amountCanceled")
        event.amountRefunded = reader.amount("amountRefunded")
        event.transactionId = reader.string("transactionId")
        event.failureCode = reader.code("failureCode")
        event.failureText = reader.string("failureText")
        event.failureReason = reader.string("failureReason")
        event.msn = reader.msn("msn")
        findings += reader.findings
        return event
    }

    private init(kind: Kind) {
        self.kind = kind
    }
}
