import EventStore
import Logging

/// What a sink worker may hold in memory for events it has not delivered yet: at most `maximumEvents` events and
/// `maximumBytes` bytes of them, an estimate from their bodies (``DeliverableEvent/heldBytes``,
/// ``StoredEvent/heldBytes``). Past either, arrivals wait in the journal. Counting bytes as well bounds a lagging sink
/// by memory whatever the bodies' size: 100,000 events of the vendor's 1.5 KB bodies with their decodes are some
/// 500 MB, of 64 KiB bodies (`max_body_bytes`) far more.
struct HeldMemory {
    let maximumEvents: Int
    let maximumBytes: Int
    private(set) var events = 0
    private(set) var bytes = 0

    init(maximumEvents: Int, maximumBytes: Int) {
        self.maximumEvents = maximumEvents
        self.maximumBytes = maximumBytes
    }

    /// Whether one more event may be held.
    var hasRoom: Bool { events < maximumEvents && bytes < maximumBytes }

    /// Events a re-feed may still hand over (none once the bytes are used up; a page may pass the byte bound once).
    var room: Int { bytes >= maximumBytes ? 0 : max(0, maximumEvents - events) }

    mutating func add(bytes added: Int, events count: Int = 1) {
        events += count
        bytes += added
    }

    mutating func remove(bytes removed: Int, events count: Int = 1) {
        events -= count
        bytes -= removed
    }

    mutating func removeAll() {
        events = 0
        bytes = 0
    }

    /// The bounds and what is held, for the log line of a worker that starts leaving arrivals to the journal.
    func metadata(sink: String) -> Logger.Metadata {
        [
            "sink": "\(sink)", "limit_events": "\(maximumEvents)", "limit_bytes": "\(maximumBytes)",
            "held_events": "\(events)", "held_bytes": "\(bytes)",
        ]
    }
}

extension DeliverableEvent {
    /// Memory the event costs while a worker holds it: the body, its decode (a JSON tree, a few times the body) and
    /// the fixed parts.
    var heldBytes: Int { stored.body.count * 4 + 512 }
}

extension StoredEvent {
    /// Memory a stored event (without a decode) costs while a worker holds it.
    var heldBytes: Int { body.count + 256 }
}
