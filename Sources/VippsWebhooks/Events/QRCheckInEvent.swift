/// A QR check-in event (`user.checked-in.v1`). Fields are optional; see ``DecodedEvent/findings``.
public struct QRCheckInEvent: Sendable, Equatable {
    /// The event type string.
    public static let eventType = "user.checked-in.v1"

    public var customerToken: String?
    public var merchantQrId: String?
    /// From `msn`, or from the older spelling `merchantSerialNumber`.
    public var msn: String?
    /// RFC 3339 text as sent (may carry 7 fractional digits).
    public var initiatedAt: String?

    static func decode(_ object: JSONValue, findings: inout [EventFinding]) -> QRCheckInEvent {
        var reader = FieldReader(object)
        var event = QRCheckInEvent()
        event.customerToken = reader.string("customerToken", required: true)
        event.merchantQrId = reader.string("merchantQrId", required: true)
        let msnKey = object["msn"] == nil && object["merchantSerialNumber"] != nil ? "merchantSerialNumber" : "msn"
        if msnKey == "msn" { reader.mayCarry("merchantSerialNumber") }
        event.msn = reader.msn(msnKey, required: true)
        event.initiatedAt = reader.timestamp("initiatedAt", required: true)
        findings += reader.findings
        return event
    }

    private init() {}
}
