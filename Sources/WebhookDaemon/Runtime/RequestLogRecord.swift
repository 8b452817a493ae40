import Logging

/// The fields of one answered request's log line (`msg` `request`), typed and held in the order their keys sort.
///
/// One is logged per request, so it is written without the metadata dictionary, sort and dynamic casts of a
/// swift-log record when the daemon's own handler writes JSON (``DaemonLogHandler/logRequest(_:level:)``); the
/// bytes are those that handler writes for ``metadata`` (a test holds the two paths to the same bytes).
struct RequestLogRecord {
    /// The endpoint's path (escaped: client-supplied for unknown paths).
    var endpoint: String
    /// The event's documented constraints it breaks, when any.
    var findings: String?
    /// The event id.
    var id: String?
    /// Time from the request's body to its answer, in microseconds (the line's `ms` field gives it in milliseconds).
    var microseconds: Int
    /// The client's address.
    var peer: String
    /// Why this answer (`stored`, `duplicate`, a refusal's reason).
    var reason: String
    /// Set when no route matched.
    var routed: String?
    /// The journal sequence of a stored event.
    var sequence: UInt64?
    /// The signed target a refused signature was checked against.
    var signedTarget: String?
    /// The HTTP status answered.
    var status: Int
    /// The event type.
    var type: String?
    /// The `webhook-id` header, or a note that it was unusable.
    var webhookID: String?

    /// The record as swift-log metadata, for any other handler and for the rate-limited refusal log.
    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        forEachField { key, value in
            switch value {
            case .text(let text): metadata[key.description] = .string(text)
            case .integer(let integer): metadata[key.description] = .stringConvertible(integer)
            case .unsigned(let unsigned): metadata[key.description] = .stringConvertible(unsigned)
            case .milliseconds(let microseconds):
                metadata[key.description] = .stringConvertible(Double(microseconds) / 1000)
            }
        }
        return metadata
    }

    /// One field's value, typed as the JSON line writes it.
    enum Value {
        case text(String)
        case integer(Int)
        case unsigned(UInt64)
        /// A duration given in microseconds, written in milliseconds as `Double`'s `description` writes it.
        case milliseconds(fromMicroseconds: Int)
    }

    /// Calls `body` with each present field, keys in ascending order (the order the JSON line has); the keys are
    /// constants that need no JSON escape.
    func forEachField(_ body: (StaticString, Value) -> Void) {
        body("endpoint", .text(endpoint))
        if let findings { body("findings", .text(findings)) }
        if let id { body("id", .text(id)) }
        body("ms", .milliseconds(fromMicroseconds: microseconds))
        body("peer", .text(peer))
        body("reason", .text(reason))
        if let routed { body("routed", .text(routed)) }
        if let sequence { body("sequence", .unsigned(sequence)) }
        if let signedTarget { body("signed_target", .text(signedTarget)) }
        body("status", .integer(status))
        if let type { body("type", .text(type)) }
        if let webhookID { body("webhook_id", .text(webhookID)) }
    }
}
