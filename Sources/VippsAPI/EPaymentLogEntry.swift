import VippsWebhooks

/// One entry of a payment's event log (`GET /epayment/v1/payments/{reference}/events`): the fields of an ePayment
/// webhook body except `msn`.
public struct EPaymentLogEntry: Sendable, Equatable {
    /// The entry as the API sent it, members in order.
    public var members: [JSONMember]
    /// `reference`.
    public var reference: String
    /// `pspReference`.
    public var pspReference: String
    /// `name` (`CREATED`, `AUTHORIZED`, `CAPTURED`, …).
    public var name: EPaymentEvent.Name
    /// `amount.value` in minor units, when present.
    public var amountValue: Int64?
    /// `success`.
    public var success: Bool

    /// `timestamp` in milliseconds since 1970, when it is a valid RFC 3339 time.
    public var timestampMillis: Int64? {
        members.first { $0.key == "timestamp" }?.value.stringValue.flatMap(EventTimestamp.millisecondsSinceEpoch)
    }

    /// The event type a webhook of this entry has: `epayments.payment.<name lowercased>.v1`.
    public var eventType: String { name.eventType }

    /// The body the daemon stores for this entry when it arrives by reconciliation: `msn` first, then the entry's
    /// members as sent, so that it decodes like the webhook and has the same identity.
    public func body(msn: String) -> [UInt8] {
        JSONValue.object([JSONMember("msn", .string(msn))] + members.filter { $0.key != "msn" }).compactBytes
    }

    /// Parses the answer: a JSON array of entries. Entries for another reference, or without a known `name`, a
    /// `pspReference` or a boolean `success`, are left out and described in `skipped`.
    public static func parseLog(
        _ json: JSONValue,
        reference: String
    ) throws(ManagementError) -> (entries: [EPaymentLogEntry], skipped: [String]) {
        guard case .array(let items) = json else {
            throw .malformedResponse("the event log of \(reference) is not a JSON array")
        }
        var entries: [EPaymentLogEntry] = []
        var skipped: [String] = []
        for (index, item) in items.enumerated() {
            switch entry(item, reference: reference) {
            case .success(let entry): entries.append(entry)
            case .failure(let reason): skipped.append("entry \(index + 1): \(reason.text)")
            }
        }
        return (entries, skipped)
    }

    private struct Reason: Error {
        var text: String
    }

    private static func entry(_ item: JSONValue, reference: String) -> Result<EPaymentLogEntry, Reason> {
        guard let members = item.objectMembers else { return .failure(Reason(text: "not an object")) }
        guard item["reference"]?.stringValue == reference else {
            return .failure(Reason(text: "reference is not \(reference)"))
        }
        guard let pspReference = item["pspReference"]?.stringValue, !pspReference.isEmpty else {
            return .failure(Reason(text: "no pspReference"))
        }
        guard let nameText = item["name"]?.stringValue, let name = EPaymentEvent.Name(rawValue: nameText) else {
            return .failure(Reason(text: "unknown name \(OutputText.clean(item["name"]?.stringValue ?? "(none)"))"))
        }
        guard let success = item["success"]?.boolValue else { return .failure(Reason(text: "no boolean success")) }
        let amountValue = item["amount"]?["value"]?.numberValue?.int64Value
        return .success(
            EPaymentLogEntry(
                members: members,
                reference: reference,
                pspReference: pspReference,
                name: name,
                amountValue: amountValue,
                success: success
            )
        )
    }
}
