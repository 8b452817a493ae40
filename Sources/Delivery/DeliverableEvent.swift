import EventStore
import VippsWebhooks

/// A stored event with its body decoded once, as the sink workers take it.
///
/// The ingest path hands on the decode it made for the event's identity and routing; an event read back from the
/// journal (after a restart, a spill to the journal or a reload) is decoded once when it is read. Neither a file
/// sink's line nor a hook's input parses the body again. A class, so the workers' queues pass one reference rather
/// than copies of every field.
public final class DeliverableEvent: Sendable {
    /// The event as journaled (its body byte for byte as received).
    public let stored: StoredEvent
    /// The decode of ``stored``'s body: `DecodedEvent.decode(body: stored.body)`.
    public let decoded: DecodedEvent

    /// Pairs an event with the decode of its body made on the ingest path.
    public init(_ stored: StoredEvent, decoded: DecodedEvent) {
        self.stored = stored
        self.decoded = decoded
    }

    /// An event read back from the journal or a dead letter: decodes its body.
    public convenience init(decoding stored: StoredEvent) {
        self.init(stored, decoded: DecodedEvent.decode(body: stored.body))
    }

    /// The event's position in the journal.
    public var sequence: UInt64 { stored.sequence }

    /// The event's id.
    public var id: String { stored.id }

    /// The event's file-sink line, newline included (also a hook's stdin), rendered from the decode at hand.
    public var line: [UInt8] {
        EventLine.render(stored, bodyIsJSON: decoded.parseError == nil)
    }
}
