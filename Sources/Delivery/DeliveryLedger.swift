/// Which events still await delivery to which sinks, and where each sink's output last stood. Pure value.
///
/// Design: the sink names an event is routed to are stored in its journal record (decided by the caller when it
/// accepts the event), and each delivery is a `delivered` record in the same journal, batched and synced with
/// appends. Replaying the journal on open rebuilds this ledger, so nothing needs the routing again at recovery and
/// a config change cannot silently re-route or drop journaled events.
struct DeliveryLedger {
    /// An event with at least one sink left.
    struct Entry {
        /// Where its record is.
        var location: Journal.Location
        /// Sinks in routing order.
        var sinks: [String]
        /// Sinks not yet delivered.
        var remaining: Set<String>
    }

    private(set) var pending: [UInt64: Entry] = [:]
    private var undeliveredPerSegment: [UInt64: Int] = [:]
    /// Latest reported position of each sink.
    private(set) var positions: [String: SinkPosition] = [:]

    /// Records a newly journaled event routed to `sinks`.
    mutating func add(sequence: UInt64, sinks: [String], at location: Journal.Location) {
        let remaining = Set(sinks)
        guard !remaining.isEmpty else { return }
        pending[sequence] = Entry(location: location, sinks: sinks, remaining: remaining)
        undeliveredPerSegment[location.segment, default: 0] += 1
    }

    /// Whether marking (`sequence`, `sink`) would change anything (the event is pending for that sink).
    func awaits(sequence: UInt64, sink: String) -> Bool {
        pending[sequence]?.remaining.contains(sink) ?? false
    }

    /// Marks `sequence` delivered to `sink`, remembering `position` for the sink when given.
    mutating func markDelivered(sequence: UInt64, sink: String, position: SinkPosition?) {
        if let position { positions[sink] = position }
        guard var entry = pending[sequence], entry.remaining.remove(sink) != nil else { return }
        if entry.remaining.isEmpty {
            pending[sequence] = nil
            undeliveredPerSegment[entry.location.segment, default: 1] -= 1
            if undeliveredPerSegment[entry.location.segment] == 0 {
                undeliveredPerSegment[entry.location.segment] = nil
            }
        } else {
            pending[sequence] = entry
        }
    }

    /// Takes the positions of a checkpoint record (older than any later mark).
    mutating func restore(positions checkpoint: [String: SinkPosition]) {
        positions.merge(checkpoint) { _, new in new }
    }

    /// Whether every event in `segment` is delivered to all its sinks.
    func isComplete(segment: UInt64) -> Bool {
        undeliveredPerSegment[segment] == nil
    }

    /// Pending events in sequence order, each with its undelivered sinks in routing order.
    func pendingInOrder() -> [(sequence: UInt64, location: Journal.Location, sinks: [String])] {
        pending.keys.sorted().map { sequence in
            let entry = pending[sequence]!
            return (sequence, entry.location, entry.sinks.filter { entry.remaining.contains($0) })
        }
    }
}
