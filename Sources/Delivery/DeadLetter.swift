import EventStore
import FoundationEssentials

/// An event a sink gave up on, with what is needed to understand and re-queue it.
public struct DeadLetter: Sendable, Equatable {
    /// The event, body byte for byte.
    public var event: StoredEvent
    /// Name of the sink that failed.
    public var sink: String
    /// Attempts made.
    public var attempts: Int
    /// Why the last attempt failed.
    public var lastError: ExecSinkFailure
    /// When the first attempt started (ms since 1970).
    public var firstAttemptAtMillis: Int64
    /// When the event was given up (ms since 1970).
    public var deadLetteredAtMillis: Int64
    /// The file-sink JSON line of the event, for people reading the file (the event is authoritative).
    public var line: String

    /// Creates a dead letter.
    public init(
        event: StoredEvent,
        sink: String,
        attempts: Int,
        lastError: ExecSinkFailure,
        firstAttemptAtMillis: Int64,
        deadLetteredAtMillis: Int64,
        line: String
    ) {
        self.event = event
        self.sink = sink
        self.attempts = attempts
        self.lastError = lastError
        self.firstAttemptAtMillis = firstAttemptAtMillis
        self.deadLetteredAtMillis = deadLetteredAtMillis
        self.line = line
    }
}

extension DeadLetter: Codable {
    private enum CodingKeys: String, CodingKey {
        case version, sink, attempts, line, event
        case lastError = "last_error"
        case firstAttemptAt = "first_attempt_at_ms"
        case deadLetteredAt = "dead_lettered_at_ms"
    }

    private enum EventKeys: String, CodingKey {
        case sequence, id, type, endpoint, source
        case webhookID = "webhook_id"
        case receivedAt = "received_at_ms"
        case body = "body_base64"
    }

    /// Version of the file layout written.
    static let version = 1

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(Int.self, forKey: .version)
        guard version == Self.version else {
            throw DecodingError.dataCorruptedError(
                forKey: .version,
                in: container,
                debugDescription: "unknown version \(version)"
            )
        }
        let event = try container.nestedContainer(keyedBy: EventKeys.self, forKey: .event)
        let sequence = try event.decode(UInt64.self, forKey: .sequence)
        let id = try event.decode(String.self, forKey: .id)
        let type = try event.decode(String.self, forKey: .type)
        let endpoint = try event.decode(String.self, forKey: .endpoint)
        let receivedAt = try event.decode(Int64.self, forKey: .receivedAt)
        let body = Array(try event.decode(Data.self, forKey: .body))
        if let source = try event.decodeIfPresent(String.self, forKey: .source) {
            self.event = StoredEvent(
                sequence: sequence,
                id: id,
                type: type,
                endpoint: endpoint,
                receivedAtMillis: receivedAt,
                body: body,
                webhookID: try event.decodeIfPresent(String.self, forKey: .webhookID),
                source: EventSource(rawValue: source)
            )
        } else {
            // Written by a version whose id was the webhook-id header: the id is derived anew from the body.
            self.event = StoredEvent.migratingLegacy(
                sequence: sequence,
                legacyID: id,
                type: type,
                endpoint: endpoint,
                receivedAtMillis: receivedAt,
                body: body
            )
        }
        sink = try container.decode(String.self, forKey: .sink)
        attempts = try container.decode(Int.self, forKey: .attempts)
        lastError = try container.decode(ExecSinkFailure.self, forKey: .lastError)
        firstAttemptAtMillis = try container.decode(Int64.self, forKey: .firstAttemptAt)
        deadLetteredAtMillis = try container.decode(Int64.self, forKey: .deadLetteredAt)
        line = try container.decode(String.self, forKey: .line)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.version, forKey: .version)
        try container.encode(sink, forKey: .sink)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(firstAttemptAtMillis, forKey: .firstAttemptAt)
        try container.encode(deadLetteredAtMillis, forKey: .deadLetteredAt)
        var event = container.nestedContainer(keyedBy: EventKeys.self, forKey: .event)
        try event.encode(self.event.sequence, forKey: .sequence)
        try event.encode(self.event.id, forKey: .id)
        try event.encode(self.event.type, forKey: .type)
        try event.encode(self.event.endpoint, forKey: .endpoint)
        try event.encode(self.event.source.rawValue, forKey: .source)
        try event.encodeIfPresent(self.event.webhookID, forKey: .webhookID)
        try event.encode(self.event.receivedAtMillis, forKey: .receivedAt)
        try event.encode(Data(self.event.body), forKey: .body)
        try container.encode(line, forKey: .line)
    }
}
