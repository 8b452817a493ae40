/// A Login merchant-initiated ping (`login.merchant-initiated.ping.v1`), body `{"auth_req_id": "..."}`.
public struct LoginPingEvent: Sendable, Equatable {
    /// The event type string.
    public static let eventType = "login.merchant-initiated.ping.v1"

    /// The `auth_req_id` of the CIBA authentication request.
    public var authReqId: String?

    /// Creates a ping event.
    public init(authReqId: String?) {
        self.authReqId = authReqId
    }

    static func decode(_ object: JSONValue, findings: inout [EventFinding]) -> LoginPingEvent {
        var reader = FieldReader(object)
        let event = LoginPingEvent(authReqId: reader.string("auth_req_id", required: true))
        findings += reader.findings
        return event
    }
}
