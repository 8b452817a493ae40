import VippsWebhooks

extension ManagementRejection {
    /// The error for a refused `response` to a call of `step`: its problem+json body (or gateway message, or first
    /// bytes) with every text passed through `redact`, so no secret reaches the output.
    static func error(
        _ step: Step,
        _ response: ManagementResponse,
        redact: (String) -> String
    ) -> ManagementError {
        let problem = ProblemDetails.parse(response.body).map { parsed in
            var clean = parsed
            clean.title = parsed.title.map(redact)
            clean.detail = parsed.detail.map(redact)
            clean.traceId = parsed.traceId.map(redact)
            clean.fieldReasons = parsed.fieldReasons.map {
                ProblemDetails.FieldReason(name: redact($0.name), reason: redact($0.reason))
            }
            return clean
        }
        var message: String?
        if problem == nil, !response.body.isEmpty {
            let json = try? JSONParser.parse(response.body)
            message =
                json?["message"]?.stringValue ?? json?["error_description"]?.stringValue
                ?? json?["error"]?.stringValue
            if json == nil { message = String(decoding: response.body, as: UTF8.self) }
        }
        // Redacted whole, then cut: a secret across the cut would no longer match, and its first bytes would stay.
        return .rejected(
            ManagementRejection(
                step: step,
                status: response.status,
                problem: problem,
                message: message.map { OutputText.clean(redact($0)) }
            )
        )
    }
}
