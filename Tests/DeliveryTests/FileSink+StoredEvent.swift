import Delivery
import EventStore

extension FileSink {
    /// Writes one event read back as the journal re-feed reads it (its body decoded here).
    func write(_ event: StoredEvent) throws -> SinkPosition {
        try write(DeliverableEvent(decoding: event))
    }

    /// Writes a batch of events read back as the journal re-feed reads them.
    func write(_ events: [StoredEvent]) throws -> [SinkPosition] {
        try write(events.map(DeliverableEvent.init(decoding:)))
    }
}
