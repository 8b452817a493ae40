import VippsWebhooks

/// An RFC 9457 `application/problem+json` error body as the Webhooks API sends it (the vendor's Webhooks API).
public struct ProblemDetails: Sendable, Equatable {
    /// One field-level reason from `extraDetails` (or an ASP.NET-style `errors` map).
    public struct FieldReason: Sendable, Equatable {
        /// The field, e.g. `url`.
        public var name: String
        /// Why it was refused.
        public var reason: String

        /// Creates a field reason.
        public init(name: String, reason: String) {
            self.name = name
            self.reason = reason
        }
    }

    /// `type`.
    public var type: String?
    /// `title`.
    public var title: String?
    /// `status`.
    public var status: Int?
    /// `detail`.
    public var detail: String?
    /// `instance`.
    public var instance: String?
    /// `traceId`, useful when asking the vendor's support.
    public var traceId: String?
    /// `extraDetails`, then the entries of an `errors` map.
    public var fieldReasons: [FieldReason]

    /// Creates a value.
    public init(
        type: String? = nil,
        title: String? = nil,
        status: Int? = nil,
        detail: String? = nil,
        instance: String? = nil,
        traceId: String? = nil,
        fieldReasons: [FieldReason] = []
    ) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.instance = instance
        self.traceId = traceId
        self.fieldReasons = fieldReasons
    }

    /// Most field reasons kept from one answer.
    static let maximumFieldReasons = 20

    /// Parses a problem body; `nil` when it is not a JSON object with at least a title, detail or field reason.
    public static func parse(_ body: [UInt8]) -> ProblemDetails? {
        guard let json = try? JSONParser.parse(body), json.objectMembers != nil else { return nil }
        var problem = ProblemDetails(
            type: json["type"]?.stringValue,
            title: json["title"]?.stringValue,
            status: json["status"]?.numberValue?.int64Value.map(Int.init)
                ?? json["status"]?.stringValue.flatMap {
                    Int($0)
                },
            detail: json["detail"]?.stringValue,
            instance: json["instance"]?.stringValue,
            traceId: json["traceId"]?.stringValue
        )
        if case .array(let items)? = json["extraDetails"] {
            for item in items {
                guard let name = item["name"]?.stringValue ?? item["field"]?.stringValue else { continue }
                problem.fieldReasons.append(FieldReason(name: name, reason: item["reason"]?.stringValue ?? "invalid"))
            }
        }
        if let errors = json["errors"]?.objectMembers {
            for member in errors {
                let reasons: [String] =
                    switch member.value {
                    case .array(let values): values.compactMap(\.stringValue)
                    case .string(let text): [text]
                    default: []
                    }
                for reason in reasons {
                    problem.fieldReasons.append(FieldReason(name: member.key, reason: reason))
                }
            }
        }
        problem.fieldReasons = Array(problem.fieldReasons.prefix(maximumFieldReasons))
        guard problem.title != nil || problem.detail != nil || !problem.fieldReasons.isEmpty else { return nil }
        return problem
    }

    /// One line: title and detail (each once, skipping one equal to `reasonPhrase`), then the field reasons in
    /// parentheses, then the trace id, e.g. `One or more validation errors occurred. (url: must be https)`.
    public func message(reasonPhrase: String) -> String {
        var parts: [String] = []
        for text in [title, detail].compactMap({ $0.map { OutputText.clean($0) } }) where !text.isEmpty {
            if text.lowercased() != reasonPhrase.lowercased(), !parts.contains(text) { parts.append(text) }
        }
        var line = parts.joined(separator: ": ")
        if !fieldReasons.isEmpty {
            let fields = fieldReasons.map { "\(OutputText.clean($0.name)): \(OutputText.clean($0.reason))" }
            line += (line.isEmpty ? "" : " ") + "(" + fields.joined(separator: "; ") + ")"
        }
        if let traceId, !traceId.isEmpty {
            line += (line.isEmpty ? "" : " ") + "[traceId \(OutputText.clean(traceId))]"
        }
        return line
    }
}
