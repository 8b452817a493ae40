import HTTP1

/// Why a management command could not do its work. Descriptions are one line and never contain a secret.
public enum ManagementError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Input refused before any call was made.
    case invalidInput(String)
    /// The call did not get an HTTP answer (connection refused, DNS, TLS, timeout).
    case network(String)
    /// The API answered with an unexpected status.
    case rejected(ManagementRejection)
    /// A 2xx answer whose body is not what the API documents.
    case malformedResponse(String)
    /// The register call answered 2xx, but without what the daemon needs (a secret, an id that is one): the
    /// registration was most likely made, with no secret stored. `id`: the answer's id, when it is a valid one.
    case unusableRegistration(id: String?, reason: String)

    public var description: String {
        switch self {
        case .invalidInput(let message): message
        case .network(let message): "network error: \(message)"
        case .rejected(let rejection): rejection.description
        case .malformedResponse(let message): "unexpected answer from the API: \(message)"
        case .unusableRegistration(let id, let reason):
            "the API registered the webhook\(id.map { " \($0)" } ?? "") but its answer cannot be used: \(reason)"
        }
    }
}

/// A non-success answer from the management API, rendered as one readable message.
public struct ManagementRejection: Sendable, Equatable, CustomStringConvertible {
    /// Which call was refused.
    public enum Step: Sendable, Equatable {
        /// `POST /accesstoken/get`.
        case accessToken
        /// A `/webhooks/v1/webhooks` call.
        case webhooks
        /// An ePayment API call (the event log).
        case ePayment
    }

    /// The call refused.
    public var step: Step
    /// The HTTP status.
    public var status: Int
    /// The problem body, when the answer had one.
    public var problem: ProblemDetails?
    /// A short plain-text message from a non-problem answer (e.g. the gateway's `{"message": ...}`).
    public var message: String?

    /// Creates a value.
    public init(step: Step, status: Int, problem: ProblemDetails?, message: String?) {
        self.step = step
        self.status = status
        self.problem = problem
        self.message = message
    }

    public var description: String {
        let phrase = HTTPResponse.knownReasonPhrase(status) ?? ""
        var line = step == .accessToken ? "access token request: " : ""
        line += phrase.isEmpty ? "\(status)" : "\(status) \(phrase)"
        var explanation = problem?.message(reasonPhrase: phrase) ?? message.map { OutputText.clean($0) } ?? ""
        if explanation.isEmpty, let hint { explanation = hint } else if let hint { explanation += " — " + hint }
        if !explanation.isEmpty { line += ": " + explanation }
        return line
    }

    /// What the user can do about a 401 or 403.
    private var hint: String? {
        switch (step, status) {
        case (.accessToken, 401), (.accessToken, 403):
            "check the client id, client secret, subscription key and merchant serial number"
        case (.webhooks, 401): "the access token was missing or not accepted"
        case (.ePayment, 404): "the vendor knows no payment with this reference for this merchant serial number"
        case (.ePayment, 401): "the access token was missing or not accepted"
        case (.ePayment, 403): "the subscription key or merchant serial number is not allowed to use the ePayment API"
        case (.webhooks, 403):
            "the subscription key or merchant serial number is not allowed to use the Webhooks API"
        default: nil
        }
    }
}
