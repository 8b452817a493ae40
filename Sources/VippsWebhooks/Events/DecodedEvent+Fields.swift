extension DecodedEvent {
    /// Text of a top-level body field for exec placeholders (`{reference}`) and filters.
    ///
    /// A string field gives its own text byte for byte (no quoting or escaping: `$(…)`, backticks, `;` and newlines
    /// come through unchanged); any other field gives its compact JSON text (`49900`, `true`, `null`,
    /// `{"currency":"NOK","value":100}`). `nil` when the field is missing, the body is not a JSON object, or the
    /// string holds a NUL character (which argv and the environment cannot carry; it is also a finding).
    public func topLevelText(_ name: String) -> String? {
        guard let value = json?[name] else { return nil }
        return DecodedEvent.text(of: value)
    }

    /// Text of the body field at a dotted path (`reference`, `amount.value`) for exec placeholders, under the rules
    /// of ``topLevelText(_:)``: each dot enters an object member. `nil` when any step is missing or not an object,
    /// and when the field is `null` (the vendor sends `null` for an optional field without a value).
    public func fieldText(_ path: String) -> String? {
        var value = json
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            value = value?[String(key)]
        }
        guard let value, value != .null else { return nil }
        return DecodedEvent.text(of: value)
    }

    /// The `VIPPS_*` variables for an exec sink's environment, in this fixed order per family; a variable is set only
    /// when its field is present, not null, and free of NUL characters. The daemon adds `PATH`, `VIPPS_EVENT_ID`,
    /// `VIPPS_EVENT_TYPE` and `VIPPS_ENDPOINT` itself; no name here collides with those.
    ///
    /// - ePayment: `VIPPS_MSN`, `VIPPS_REFERENCE`, `VIPPS_PSP_REFERENCE` (pspReference), `VIPPS_NAME`,
    ///   `VIPPS_AMOUNT_VALUE` (amount.value), `VIPPS_AMOUNT_CURRENCY` (amount.currency), `VIPPS_TIMESTAMP`,
    ///   `VIPPS_IDEMPOTENCY_KEY`, `VIPPS_SUCCESS`, `VIPPS_SUB`, `VIPPS_SHIPPING_DETAILS`, `VIPPS_USER_DETAILS`.
    /// - Recurring agreement: `VIPPS_AGREEMENT_ID`, `VIPPS_AGREEMENT_UUID`, `VIPPS_AGREEMENT_EXTERNAL_ID`,
    ///   `VIPPS_OCCURRED`, `VIPPS_ACTOR`, `VIPPS_MSN`.
    /// - Recurring charge: `VIPPS_AGREEMENT_ID`, `VIPPS_CHARGE_ID`, `VIPPS_CHARGE_EXTERNAL_ID`, `VIPPS_AMOUNT`,
    ///   `VIPPS_CURRENCY`, `VIPPS_CHARGE_TYPE`, `VIPPS_OCCURRED`, `VIPPS_AMOUNT_CAPTURED`, `VIPPS_AMOUNT_CANCELED`,
    ///   `VIPPS_AMOUNT_REFUNDED`, `VIPPS_FAILURE_CODE`, `VIPPS_FAILURE_TEXT`, `VIPPS_FAILURE_REASON`, `VIPPS_MSN`,
    ///   `VIPPS_TRANSACTION_ID` (transactionId).
    /// - QR check-in: `VIPPS_CUSTOMER_TOKEN`, `VIPPS_MERCHANT_QR_ID`, `VIPPS_MSN` (msn, or the older
    ///   merchantSerialNumber), `VIPPS_INITIATED_AT`.
    /// - Login ping: `VIPPS_AUTH_REQ_ID` (auth_req_id).
    /// - unknown: none (field names of unknown payloads are not trusted as variable names).
    public var environment: [EventVariable] {
        guard let json else { return [] }
        var variables: [EventVariable] = []
        for (name, path) in DecodedEvent.variableFields(for: family) {
            var value: JSONValue? = json
            for key in path { value = value?[key] }
            if value == nil, path == ["msn"], case .qrCheckIn = family {
                value = json["merchantSerialNumber"]
            }
            guard let value, value != .null, let text = DecodedEvent.text(of: value) else { continue }
            variables.append(EventVariable(name: name, value: text))
        }
        return variables
    }

    /// A field's text under the rules of ``topLevelText(_:)``.
    static func text(of value: JSONValue) -> String? {
        if case .string(let text) = value {
            return text.utf8.contains(0) ? nil : text
        }
        return value.compactText
    }

    /// Variable name and field path of each variable of a family, in output order.
    private static func variableFields(for family: EventFamily) -> [(String, [String])] {
        switch family {
        case .ePayment:
            [
                ("VIPPS_MSN", ["msn"]), ("VIPPS_REFERENCE", ["reference"]), ("VIPPS_PSP_REFERENCE", ["pspReference"]),
                ("VIPPS_NAME", ["name"]), ("VIPPS_AMOUNT_VALUE", ["amount", "value"]),
                ("VIPPS_AMOUNT_CURRENCY", ["amount", "currency"]), ("VIPPS_TIMESTAMP", ["timestamp"]),
                ("VIPPS_IDEMPOTENCY_KEY", ["idempotencyKey"]), ("VIPPS_SUCCESS", ["success"]), ("VIPPS_SUB", ["sub"]),
                ("VIPPS_SHIPPING_DETAILS", ["shippingDetails"]), ("VIPPS_USER_DETAILS", ["userDetails"]),
            ]
        case .recurringAgreement:
            [
                ("VIPPS_AGREEMENT_ID", ["agreementId"]), ("VIPPS_AGREEMENT_UUID", ["agreementUUID"]),
                ("VIPPS_AGREEMENT_EXTERNAL_ID", ["agreementExternalId"]), ("VIPPS_OCCURRED", ["occurred"]),
                ("VIPPS_ACTOR", ["actor"]), ("VIPPS_MSN", ["msn"]),
            ]
        case .recurringCharge:
            [
                ("VIPPS_AGREEMENT_ID", ["agreementId"]), ("VIPPS_CHARGE_ID", ["chargeId"]),
                ("VIPPS_CHARGE_EXTERNAL_ID", ["chargeExternalId"]), ("VIPPS_AMOUNT", ["amount"]),
                ("VIPPS_CURRENCY", ["currency"]), ("VIPPS_CHARGE_TYPE", ["chargeType"]),
                ("VIPPS_OCCURRED", ["occurred"]), ("VIPPS_AMOUNT_CAPTURED", ["amountCaptured"]),
                ("VIPPS_AMOUNT_CANCELED", ["amountCanceled"]), ("VIPPS_AMOUNT_REFUNDED", ["amountRefunded"]),
                ("VIPPS_FAILURE_CODE", ["failureCode"]), ("VIPPS_FAILURE_TEXT", ["failureText"]),
                ("VIPPS_FAILURE_REASON", ["failureReason"]), ("VIPPS_MSN", ["msn"]),
                ("VIPPS_TRANSACTION_ID", ["transactionId"]),
            ]
        case .qrCheckIn:
            [
                ("VIPPS_CUSTOMER_TOKEN", ["customerToken"]), ("VIPPS_MERCHANT_QR_ID", ["merchantQrId"]),
                ("VIPPS_MSN", ["msn"]), ("VIPPS_INITIATED_AT", ["initiatedAt"]),
            ]
        case .loginPing:
            [("VIPPS_AUTH_REQ_ID", ["auth_req_id"])]
        case .unknown:
            []
        }
    }
}
