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
    /// An event with at least one sink left. Its sinks are kept as given (the caller's array, not a copy) and
    /// tracked by their place in it, so adding and marking an event hash no sink name.
    struct Entry {
        /// Where its record is.
        var location: Journal.Location
        /// Sinks in routing order.
        var sinks: [String]
        /// Places in `sinks` not yet delivered (the first place of each name).
        var remaining = SinkPlaces()
        /// Places (of `remaining`) whose worker holds the event.
        var out = SinkPlaces()

        init(location: Journal.Location, sinks: [String]) {
            self.location = location
            self.sinks = sinks
            // A name listed twice is owed once, at its first place (marks find a sink by the same linear search).
            for (place, sink) in sinks.enumerated() where sinks.firstIndex(of: sink) == place {
                _ = remaining.insert(place)
            }
        }

        /// The place of `sink` among those not yet delivered, or nil.
        func remainingPlace(of sink: String) -> Int? {
            guard let place = sinks.firstIndex(of: sink), remaining.contains(place) else { return nil }
            return place
        }

        /// Claims the event for `sink`: true when it is owed and was not out.
        mutating func handOut(_ sink: String) -> Bool {
            guard let place = remainingPlace(of: sink) else { return false }
            return out.insert(place)
        }

        /// Sinks not yet delivered, in routing order.
        var remainingSinks: [String] {
            sinks.indices.filter { remaining.contains($0) }.map { sinks[$0] }
        }
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
        guard !sinks.isEmpty else { return }
        let entry = Entry(location: location, sinks: sinks)
        for place in sinks.indices where entry.remaining.contains(place) { owed[sinks[place], default: 0] += 1 }
        pending[sequence] = entry
        undeliveredPerSegment[location.segment, default: 0] += 1
        order.append(sequence)
    }

    /// Whether marking (`sequence`, `sink`) would change anything (the event is pending for that sink).
    func awaits(sequence: UInt64, sink: String) -> Bool {
        pending[sequence]?.remainingPlace(of: sink) != nil
    }

    /// Where the record of pending event `sequence` is, if it is pending.
    func location(of sequence: UInt64) -> Journal.Location? {
        pending[sequence]?.location
    }

    /// Marks `sequence` delivered to `sink`, remembering `position` for the sink when given; ends its hand-out.
    mutating func markDelivered(sequence: UInt64, sink: String, position: SinkPosition?) {
        if let position { positions[sink] = position }
        // The entry is changed in place (a copy would copy its bit sets and retain its sinks).
        guard let index = pending.index(forKey: sequence), let place = pending.values[index].remainingPlace(of: sink)
        else { return }
        let delivered = pending.values[index].deliver(place)
        Self.decrement(&owed, sink)
        guard delivered else { return }
        Self.decrement(&undeliveredPerSegment, pending.remove(at: index).value.location.segment)
        if order.count > 1024, pending.count < order.count / 2 {
            order.removeAll { pending[$0] == nil }
        }
    }

    /// Counts one less for `key`, removing it at zero (one lookup: the count is changed in place).
    private static func decrement<Key: Hashable>(_ counts: inout [Key: Int], _ key: Key) {
        guard let index = counts.index(forKey: key) else { return }
        if counts.values[index] > 1 { counts.values[index] -= 1 } else { counts.remove(at: index) }
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
            return (sequence, entry.location, entry.remainingSinks)
        }
    }

    // MARK: - Hand-out

    /// Claims a just-stored event for `sink` on the arrival path: true when it is owed, not out, and the sink is
    /// not fed from the journal (then the caller must deliver it, or give it back).
    mutating func handOut(sequence: UInt64, sink: String) -> Bool {
        guard !fedFromJournal.contains(sink), let index = pending.index(forKey: sequence) else { return false }
        return pending.values[index].handOut(sink)
    }

    /// Ends the hand-out of an event that was not delivered (spilled, or its delivery left undone); the sink is
    /// then fed from the journal, so the event goes out again in sequence order.
    mutating func giveBack(sequence: UInt64, sink: String) {
        feedFromJournal(sink)
        cursor[sink] = min(cursor[sink] ?? 0, sequence)
        guard let index = pending.index(forKey: sequence), let place = pending.values[index].sinks.firstIndex(of: sink)
        else { return }
        _ = pending.values[index].out.remove(place)
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
            guard let entry = pending.index(forKey: sequence), pending.values[entry].handOut(sink) else { continue }
            claimed.append((sequence, pending.values[entry].location))
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
            if let entry = pending[sequence], entry.remainingPlace(of: sink) != nil {
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

extension DeliveryLedger.Entry {
    /// Marks the sink at `place` (one of `remaining`) delivered and ends its hand-out; whether none is left.
    mutating func deliver(_ place: Int) -> Bool {
        _ = remaining.remove(place)
        _ = out.remove(place)
        return remaining.isEmpty
    }
}

/// A set of places (indices) in an entry's sink list: one word inline, more only for an event routed to more than
/// 64 sinks.
struct SinkPlaces: Equatable {
    private var first: UInt64 = 0
    private var more: [UInt64] = []

    func contains(_ place: Int) -> Bool {
        if place < 64 { return first & (1 << place) != 0 }
        let word = place / 64 - 1
        return word < more.count && more[word] & (1 << (place % 64)) != 0
    }

    /// Adds `place`; whether it was absent.
    mutating func insert(_ place: Int) -> Bool {
        guard !contains(place) else { return false }
        if place < 64 {
            first |= 1 << place
        } else {
            while more.count <= place / 64 - 1 { more.append(0) }
            more[place / 64 - 1] |= 1 << (place % 64)
        }
        return true
    }

    /// Removes `place`; whether it was present.
    mutating func remove(_ place: Int) -> Bool {
        guard contains(place) else { return false }
        if place < 64 { first &= ~(1 << place) } else { more[place / 64 - 1] &= ~(1 << (place % 64)) }
        return true
    }

    var isEmpty: Bool { first == 0 && more.allSatisfy { $0 == 0 } }
}
