/// Which events still await delivery to which sinks, which of those are handed out to a sink's worker, and where
/// each sink's output last stood. Pure value.
///
/// Design: the sink names an event is routed to are stored in its journal record (decided by the caller when it
/// accepts the event), and each delivery is a `delivered` record in the same journal, batched and synced with
/// appends. Replaying the journal on open rebuilds this ledger, so nothing needs the routing again at recovery and
/// a config change cannot silently re-route or drop journaled events.
///
/// Hand-out (in memory only): an event owed to a sink is either *waiting* (in the journal only) or *out* (held by
/// the sink's worker: queued, running, or its mark not yet applied). Every path that gives an event to a worker
/// claims it first (``handOut(sequence:sink:)``, ``claim(sink:limit:)``), and nothing claims an event that is out,
/// so no event is handed out twice; its mark or ``giveBack(sequence:sink:)`` ends the hand-out. A sink listed in
/// ``fedFromJournal`` gets nothing from the arrival path: its waiting events are claimed in sequence order by the
/// journal re-feed until none is left (that keeps per-payment order across a spill).
struct DeliveryLedger {
    /// An event with at least one sink left.
    struct Entry {
        /// Where its record is.
        var location: Journal.Location
        /// Sinks in routing order.
        var sinks: [String]
        /// Sinks not yet delivered.
        var remaining: Set<String>
        /// Sinks (of `remaining`) whose worker holds the event.
        var out: Set<String> = []
    }

    private(set) var pending: [UInt64: Entry] = [:]
    private var undeliveredPerSegment: [UInt64: Int] = [:]
    /// Latest reported position of each sink.
    private(set) var positions: [String: SinkPosition] = [:]
    /// Sequences added, ascending (sequences only grow); delivered ones are dropped when they are most of it.
    private var order: [UInt64] = []
    /// Events owed per sink.
    private(set) var owed: [String: Int] = [:]
    /// Sinks fed from the journal in sequence order instead of by arrival.
    private(set) var fedFromJournal: Set<String> = []
    /// Per sink fed from the journal: no waiting event below this sequence.
    private var cursor: [String: UInt64] = [:]

    /// Records a newly journaled event routed to `sinks`.
    mutating func add(sequence: UInt64, sinks: [String], at location: Journal.Location) {
        let remaining = Set(sinks)
        guard !remaining.isEmpty else { return }
        pending[sequence] = Entry(location: location, sinks: sinks, remaining: remaining)
        undeliveredPerSegment[location.segment, default: 0] += 1
        order.append(sequence)
        for sink in remaining { owed[sink, default: 0] += 1 }
    }

    /// Whether marking (`sequence`, `sink`) would change anything (the event is pending for that sink).
    func awaits(sequence: UInt64, sink: String) -> Bool {
        pending[sequence]?.remaining.contains(sink) ?? false
    }

    /// Marks `sequence` delivered to `sink`, remembering `position` for the sink when given; ends its hand-out.
    mutating func markDelivered(sequence: UInt64, sink: String, position: SinkPosition?) {
        if let position { positions[sink] = position }
        guard var entry = pending[sequence], entry.remaining.remove(sink) != nil else { return }
        entry.out.remove(sink)
        owed[sink, default: 1] -= 1
        if owed[sink] == 0 { owed[sink] = nil }
        if entry.remaining.isEmpty {
            pending[sequence] = nil
            undeliveredPerSegment[entry.location.segment, default: 1] -= 1
            if undeliveredPerSegment[entry.location.segment] == 0 {
                undeliveredPerSegment[entry.location.segment] = nil
            }
            if order.count > 1024, pending.count < order.count / 2 {
                order.removeAll { pending[$0] == nil }
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

    // MARK: - Hand-out

    /// Claims a just-stored event for `sink` on the arrival path: true when it is owed, not out, and the sink is
    /// not fed from the journal (then the caller must deliver it, or give it back).
    mutating func handOut(sequence: UInt64, sink: String) -> Bool {
        guard !fedFromJournal.contains(sink), var entry = pending[sequence], entry.remaining.contains(sink),
            entry.out.insert(sink).inserted
        else { return false }
        pending[sequence] = entry
        return true
    }

    /// Ends the hand-out of an event that was not delivered (spilled, or its delivery left undone); the sink is
    /// then fed from the journal, so the event goes out again in sequence order.
    mutating func giveBack(sequence: UInt64, sink: String) {
        feedFromJournal(sink)
        cursor[sink] = min(cursor[sink] ?? 0, sequence)
        guard var entry = pending[sequence], entry.out.remove(sink) != nil else { return }
        pending[sequence] = entry
    }

    /// From now on `sink` gets its events from the journal re-feed only (a new worker, a spill, a reload).
    mutating func feedFromJournal(_ sink: String) {
        if fedFromJournal.insert(sink).inserted { cursor[sink] = 0 }
    }

    /// Claims up to `limit` waiting events of `sink` in sequence order. When none is left, `sink` goes back to the
    /// arrival path and the result is empty.
    mutating func claim(sink: String, limit: Int) -> [(sequence: UInt64, location: Journal.Location)] {
        guard fedFromJournal.contains(sink) else { return [] }
        var claimed: [(sequence: UInt64, location: Journal.Location)] = []
        var index = firstIndex(atLeast: cursor[sink] ?? 0)
        while index < order.count, claimed.count < limit {
            let sequence = order[index]
            index += 1
            guard var entry = pending[sequence], entry.remaining.contains(sink), entry.out.insert(sink).inserted
            else { continue }
            pending[sequence] = entry
            claimed.append((sequence, entry.location))
        }
        cursor[sink] = index < order.count ? order[index] : (order.last ?? 0) + 1
        if claimed.isEmpty {
            fedFromJournal.remove(sink)
            cursor[sink] = nil
        }
        return claimed
    }

    /// Up to `limit` events owed to `sink` with a sequence of at least `from`, in sequence order, not claimed.
    func owed(to sink: String, from: UInt64, limit: Int) -> [(sequence: UInt64, location: Journal.Location)] {
        var result: [(sequence: UInt64, location: Journal.Location)] = []
        var index = firstIndex(atLeast: from)
        while index < order.count, result.count < limit {
            let sequence = order[index]
            index += 1
            if let entry = pending[sequence], entry.remaining.contains(sink) {
                result.append((sequence, entry.location))
            }
        }
        return result
    }

    /// Index in `order` of the first sequence not below `sequence`.
    private func firstIndex(atLeast sequence: UInt64) -> Int {
        var low = 0
        var high = order.count
        while low < high {
            let middle = (low + high) / 2
            if order[middle] < sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
