import VippsWebhooks

/// A client of the ePayment API's event log, `GET /epayment/v1/payments/{reference}/events`: the vendor's
/// authoritative history of one payment.
public final class EPaymentClient: Sendable {
    private let session: VippsAPISession

    /// Creates a client on `session` (token, retries, headers).
    public init(session: VippsAPISession) {
        self.session = session
    }

    /// Requests sent to the API so far (see ``VippsAPISession/requests``).
    public var requests: Int {
        session.requests
    }

    /// The event log of payment `reference` of merchant `msn`, in the order the API gives it, and a line per entry
    /// that was left out as malformed.
    /// - Throws: ``ManagementError/invalidInput(_:)`` for a reference or MSN the API cannot have;
    ///   ``ManagementError/rejected(_:)`` with status 404 when the vendor knows no such payment.
    public func events(
        reference: String,
        msn: String
    ) throws(ManagementError) -> (entries: [EPaymentLogEntry], skipped: [String]) {
        try ManagementInput.checkPaymentReference(reference)
        try ManagementInput.checkMSN(msn)
        let response = try session.call(
            "GET",
            "/epayment/v1/payments/\(reference)/events",
            msn: msn,
            step: .ePayment,
            expecting: [200]
        )
        let json: JSONValue
        do { json = try JSONParser.parse(response.body) } catch {
            throw .malformedResponse("the event log of \(reference) is not JSON")
        }
        return try EPaymentLogEntry.parseLog(json, reference: reference)
    }
}
