/// Which documented payload family an event belongs to, with its typed fields.
///
/// `indirect`: an event is copied whole into the store's completion, each sink's hand-over and the payment ledger;
/// boxed, a copy takes one reference instead of one per string field of the payload.
public indirect enum EventFamily: Sendable, Equatable {
    case ePayment(EPaymentEvent)
    case recurringAgreement(RecurringAgreementEvent)
    case recurringCharge(RecurringChargeEvent)
    case qrCheckIn(QRCheckInEvent)
    case loginPing(LoginPingEvent)
    /// Not JSON, not an object, or no known type: the body is kept raw, type `unknown`.
    case unknown
}

extension EventFamily {
    /// The event type string of this family's event, or ``DecodedEvent/unknownType``.
    public var type: String {
        switch self {
        case .ePayment(let event): event.name.eventType
        case .recurringAgreement(let event): event.kind.eventType
        case .recurringCharge(let event): event.kind.eventType
        case .qrCheckIn: QRCheckInEvent.eventType
        case .loginPing: LoginPingEvent.eventType
        case .unknown: DecodedEvent.unknownType
        }
    }
}
