/// A Recurring agreement event (`recurring.agreement-<kind>.v1`). Fields are optional; see ``DecodedEvent/findings``.
public struct RecurringAgreementEvent: Sendable, Equatable {
    /// What happened to the agreement.
    public enum Kind: String, Sendable, CaseIterable {
        case activated, rejected, stopped, expired

        /// The event type string, `recurring.agreement-<kind>.v1`.
        public var eventType: String { "recurring.agreement-\(rawValue).v1" }
    }

    public var kind: Kind
    /// e.g. `agr_kFW4chk`.
    public var agreementId: String?
    public var agreementUUID: String?
    /// The merchant's own id, `nil` when null or absent.
    public var agreementExternalId: String?
    /// RFC 3339 text as sent.
    public var occurred: String?
    /// Who stopped it, kept as sent (`MERCHANT`, `USER`, `ADMIN` when the user's profile was deleted, or any newer
    /// value); `nil` when null or absent.
    public var actor: String?
    /// Merchant serial number, when sent.
    public var msn: String?

    static func decode(_ object: JSONValue, kind: Kind, findings: inout [EventFinding]) -> RecurringAgreementEvent {
        var reader = FieldReader(object)
        var event = RecurringAgreementEvent(kind: kind)
        event.agreementId = reader.string("agreementId", required: true)
        event.agreementUUID = reader.string("agreementUUID")
        event.agreementExternalId = reader.string("agreementExternalId")
        event.occurred = reader.timestamp("occurred", required: true)
        event.actor = reader.string("actor")
        event.msn = reader.msn("msn")
        findings += reader.findings
        return event
    }

    private init(kind: Kind) {
        self.kind = kind
    }
}
