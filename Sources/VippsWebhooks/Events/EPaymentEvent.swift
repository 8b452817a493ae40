/// An ePayment event (`epayments.payment.<name>.v1`). Fields are optional because decoding never fails on a
/// malformed payload; a documented field that is absent or malformed is reported in ``DecodedEvent/findings``.
public struct EPaymentEvent: Sendable, Equatable {
    /// The `name` field: what happened to the payment.
    public enum Name: String, Sendable, CaseIterable {
        case created = "CREATED"
        case aborted = "ABORTED"
        case expired = "EXPIRED"
        case cancelled = "CANCELLED"
        case captured = "CAPTURED"
        case refunded = "REFUNDED"
        case authorized = "AUTHORIZED"
        case terminated = "TERMINATED"

        /// The name whose raw value is `rawValue` (equal as a String), or nil; one hash lookup instead of a
        /// comparison with every name in turn.
        public init?(rawValue: String) {
            guard let name = Self.byRawValue[rawValue] else { return nil }
            self = name
        }

        private static let byRawValue = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

        /// The event type string, `epayments.payment.<lower-cased name>.v1`.
        public var eventType: String { Self.eventTypes[self]! }

        /// Every name's event type, made once: the type is asked for on every event.
        private static let eventTypes = Dictionary(
            uniqueKeysWithValues: allCases.map { ($0, "epayments.payment." + $0.rawValue.lowercased() + ".v1") }
        )
    }

    /// The `amount` object.
    public struct Amount: Sendable, Equatable {
        /// ISO 4217 code (NOK, DKK, EUR, SEK, USD, GBP are documented).
        public var currency: String?
        /// Minor units (øre, cent).
        public var value: Int64?

        /// Creates an amount.
        public init(currency: String?, value: Int64?) {
            self.currency = currency
            self.value = value
        }
    }

    public var name: Name
    /// Merchant serial number (4–10 digits).
    public var msn: String?
    /// The merchant's payment reference.
    public var reference: String?
    /// The vendor's reference for this event's operation.
    public var pspReference: String?
    public var amount: Amount?
    /// RFC 3339 text as sent.
    public var timestamp: String?
    /// String, or `nil` when null or absent.
    public var idempotencyKey: String?
    /// Whether the operation succeeded (an event is not always a success).
    public var success: Bool?
    public var shippingDetails: JSONValue?
    public var userDetails: JSONValue?
    /// OpenID subject of the user, when the payment asked for user info.
    public var sub: String?

    /// Decodes the fields of `object` whose `name` is `name`; findings go to `findings`.
    static func decode(_ object: JSONValue, name: Name, findings: inout [EventFinding]) -> EPaymentEvent {
        var reader = FieldReader(object)
        var event = EPaymentEvent(name: name)
        event.msn = reader.msn("msn", required: true)
        event.reference = reader.reference("reference", required: true)
        event.pspReference = reader.string("pspReference", required: true)
        if let amountObject = reader.object("amount", required: true) {
            var amountReader = FieldReader(amountObject, pathPrefix: "amount.", reads: reader.reads)
            event.amount = Amount(
                currency: amountReader.currency("currency", required: true),
                value: amountReader.amount("value", required: true)
            )
            findings += amountReader.findings
        } else if object["amount"] == nil || object["amount"] == .null {
            reader.note("amount", .missing)
        }
        event.timestamp = reader.timestamp("timestamp", required: true)
        event.idempotencyKey = reader.string("idempotencyKey")
        event.success = reader.bool("success", required: true)
        event.shippingDetails = reader.object("shippingDetails")
        event.userDetails = reader.object("userDetails")
        event.sub = reader.string("sub")
        findings = reader.findings + findings
        return event
    }

    private init(name: Name) {
        self.name = name
    }
}
