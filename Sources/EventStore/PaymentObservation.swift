import VippsWebhooks

/// One ePayment event the daemon holds (by webhook or reconciliation), as the payment ledger keeps it: a line of
/// `payments.log`.
public struct PaymentObservation: Sendable, Equatable {
    /// `msn`.
    public var msn: String
    /// `reference`.
    public var reference: String
    /// `pspReference`.
    public var pspReference: String
    /// `name` (`CREATED`, `CAPTURED`, …).
    public var name: String
    /// `amount.value` in minor units, when the event had one.
    public var amount: Int64?
    /// `success`.
    public var success: Bool
    /// The endpoint whose routes select the event's sinks.
    public var endpoint: String
    /// When the daemon stored the event (milliseconds since 1970).
    public var atMillis: Int64

    /// Creates an observation.
    public init(
        msn: String,
        reference: String,
        pspReference: String,
        name: String,
        amount: Int64?,
        success: Bool,
        endpoint: String,
        atMillis: Int64
    ) {
        self.msn = msn
        self.reference = reference
        self.pspReference = pspReference
        self.name = name
        self.amount = amount
        self.success = success
        self.endpoint = endpoint
        self.atMillis = atMillis
    }

    /// The observation of a decoded ePayment event with a complete business key, or nil for any other event.
    public init?(_ decoded: DecodedEvent, endpoint: String, atMillis: Int64) {
        guard let key = EPaymentBusinessKey(decoded), let json = decoded.json else { return nil }
        self.init(
            msn: key.msn,
            reference: key.reference,
            pspReference: key.pspReference,
            name: key.name,
            amount: json["amount"]?["value"]?.numberValue?.int64Value,
            success: json["success"]?.boolValue ?? false,
            endpoint: endpoint,
            atMillis: atMillis
        )
    }

    /// The line written to `payments.log` (compact JSON and a newline), written as bytes: one per event held, on
    /// the ledger's queue.
    var line: [UInt8] {
        var bytes: [UInt8] = []
        let texts = msn.utf8.count + reference.utf8.count + pspReference.utf8.count + endpoint.utf8.count
        bytes.reserveCapacity(128 + texts)
        func member(_ name: String, _ text: String) {
            bytes.append(bytes.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONValue.writeString(name, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONValue.writeString(text, into: &bytes)
        }
        member("msn", msn)
        member("reference", reference)
        member("pspReference", pspReference)
        member("name", name)
        bytes.append(contentsOf: (success ? #","success":true"# : #","success":false"#).utf8)
        member("endpoint", endpoint)
        bytes.append(contentsOf: #","at":"#.utf8)
        bytes.append(contentsOf: String(atMillis).utf8)
        if let amount {
            bytes.append(contentsOf: #","amount":"#.utf8)
            bytes.append(contentsOf: String(amount).utf8)
        }
        bytes.append(contentsOf: "}\n".utf8)
        return bytes
    }

    /// Parses a line of `payments.log`; nil when it is damaged.
    init?(line: ArraySlice<UInt8>) {
        guard let json = try? JSONParser.parse(Array(line)),
            let msn = json["msn"]?.stringValue, let reference = json["reference"]?.stringValue,
            let pspReference = json["pspReference"]?.stringValue, let name = json["name"]?.stringValue,
            let success = json["success"]?.boolValue, let endpoint = json["endpoint"]?.stringValue,
            let at = json["at"]?.numberValue?.int64Value
        else { return nil }
        let amount = json["amount"]?.numberValue?.int64Value
        guard json["amount"] == nil || amount != nil else { return nil }
        self.init(
            msn: msn,
            reference: reference,
            pspReference: pspReference,
            name: name,
            amount: amount,
            success: success,
            endpoint: endpoint,
            atMillis: at
        )
    }
}
