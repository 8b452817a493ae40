import VippsWebhooks

/// What `vipps-webhookd reconcile` asks for: given references, or the unfinished payments seen within a time; one
/// JSON line on the daemon's control socket.
struct ReconcileRequest: Sendable, Equatable {
    /// Payment references to reconcile; empty = the unfinished payments seen within ``sinceSeconds``.
    var references: [String] = []
    /// How far back to look for payments when no reference is given.
    var sinceSeconds: Int64 = 7 * 24 * 3600
    /// Merchant serial number for a reference the daemon has not seen (default: `vipps_api`'s).
    var msn: String?
    /// Endpoint whose routes select the sinks for a reference the daemon has not seen.
    var endpoint: String?

    /// Longest look-back accepted (366 days, as `--since` allows); larger values would overflow in milliseconds.
    static let maximumSinceSeconds: Int64 = 366 * 24 * 3600

    /// Longest request line accepted on the control socket.
    static let maximumLineBytes = 64 * 1024

    /// Most references in one request.
    static let maximumReferences = 10_000

    /// Why the daemon would refuse this request (the command says so before it asks), or nil.
    var problem: String? {
        guard (1...Self.maximumSinceSeconds).contains(sinceSeconds) else { return "--since is at most 366d" }
        guard references.count <= Self.maximumReferences else {
            return "at most \(Self.maximumReferences) --reference at once"
        }
        guard line.count <= Self.maximumLineBytes else {
            return "the references take \(line.count) bytes; at most \(Self.maximumLineBytes) go in one request"
        }
        return nil
    }

    /// The request as one JSON line (newline included).
    var line: [UInt8] {
        var members = [
            JSONMember("references", .array(references.map(JSONValue.string))),
            JSONMember("since_seconds", .number(JSONNumber(sinceSeconds))),
        ]
        if let msn { members.append(JSONMember("msn", .string(msn))) }
        if let endpoint { members.append(JSONMember("endpoint", .string(endpoint))) }
        return JSONValue.object(members).compactBytes + [0x0A]
    }

    /// Parses a request line; nil when it is not one.
    init?(line: some Collection<UInt8>) {
        guard let json = try? JSONParser.parse(Array(line)), case .array(let items)? = json["references"],
            let since = json["since_seconds"]?.numberValue?.int64Value, (1...Self.maximumSinceSeconds).contains(since)
        else { return nil }
        let references = items.compactMap(\.stringValue)
        guard references.count == items.count, references.count <= Self.maximumReferences else { return nil }
        self.references = references
        sinceSeconds = since
        msn = json["msn"]?.stringValue
        endpoint = json["endpoint"]?.stringValue
    }

    /// A request.
    init(references: [String], sinceSeconds: Int64, msn: String?, endpoint: String?) {
        self.references = references
        self.sinceSeconds = sinceSeconds
        self.msn = msn
        self.endpoint = endpoint
    }
}
