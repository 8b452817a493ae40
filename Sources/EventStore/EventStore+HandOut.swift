import Dispatch

/// Hand-out of owed events to sink workers (see ``DeliveryLedger`` for the states). All of it runs on the store's
/// queue, so an arrival, a re-feed page, a mark and a give-back are each one step against the same ledger.
extension EventStore {
    /// Claims a just-stored event for those of `sinks` that take it from the arrival path; returns them (in order).
    /// The caller must deliver it to each, or ``giveBack(_:sink:)``. Cheap; callable from the accept completion
    /// (on the store's queue) or from any other thread.
    public func handOut(sequence: UInt64, sinks: [String]) -> [String] {
        onQueue { sinks.filter { ledger.handOut(sequence: sequence, sink: $0) } }
    }

    /// Ends the hand-out of events that were not delivered; `sink` is then fed from the journal (in sequence order)
    /// until none of its events waits. Returns at once.
    public func giveBack(_ sequences: [UInt64], sink: String) {
        queue.async { [self] in
            ledger.feedFromJournal(sink)
            for sequence in sequences { ledger.giveBack(sequence: sequence, sink: sink) }
        }
    }

    /// From now on the arrival path hands nothing to `sink`: its events wait for ``JournalFeed/next(sink:maxEvents:maxBytes:caughtUp:)``.
    public func feedFromJournal(sink: String) {
        onQueue { ledger.feedFromJournal(sink) }
    }

    /// Sinks that are fed from the journal now.
    public var sinksFedFromJournal: Set<String> {
        onQueue { ledger.fedFromJournal }
    }

    /// How many events each sink is still owed.
    public var owedPerSink: [String: Int] {
        onQueue { ledger.owed }
    }

    /// A reader of waiting events for the journal re-feed (one per thread of work).
    public func journalFeed() -> JournalFeed {
        JournalFeed(store: self)
    }

    /// Runs `body` on the store's queue: directly when already there, else with `queue.sync`.
    func onQueue<T>(_ body: () throws -> T) rethrows -> T {
        if DispatchQueue.getSpecific(key: Self.queueKey) == ObjectIdentifier(queue) { return try body() }
        return try queue.sync(execute: body)
    }
}

/// Streams a sink's waiting events out of the journal in bounded pages: claiming a page is one short step on the
/// store's queue; the bodies are read afterwards, on the caller's thread, through descriptors of its own.
public final class JournalFeed {
    private let store: EventStore
    private let reader: JournalReader

    init(store: EventStore) {
        self.store = store
        reader = JournalReader(path: store.journal.path(of:))
    }

    /// Claims and reads the next waiting events of `sink`, oldest first: at most `maxEvents`, and no more than
    /// `maxBytes` of bodies (at least one). Empty when none waits: then `sink` is back on the arrival path, and
    /// `caughtUp` was called on the store's queue first (before any later arrival is handed out).
    /// - Throws: ``StorageError`` when a record cannot be read; every event claimed by this call is given back.
    public func next(
        sink: String,
        maxEvents: Int,
        maxBytes: Int,
        caughtUp: () -> Void
    ) throws -> [StoredEvent] {
        let claimed = store.onQueue {
            let claimed = store.ledger.claim(sink: sink, limit: maxEvents)
            if claimed.isEmpty { caughtUp() }
            return claimed
        }
        var events: [StoredEvent] = []
        var bytes = 0
        do {
            for entry in claimed {
                guard events.isEmpty || bytes < maxBytes else { break }
                let event = try reader.event(sequence: entry.sequence, at: entry.location)
                bytes += event.body.count
                events.append(event)
            }
        } catch {
            store.giveBack(claimed.map(\.sequence), sink: sink)
            throw error
        }
        if events.count < claimed.count {
            store.giveBack(claimed[events.count...].map(\.sequence), sink: sink)
        }
        return events
    }

    /// Ids of the events owed to `sink` (claimed or not), read page by page; only the ids are kept.
    public func owedIDs(sink: String, pageSize: Int = 1024) throws -> Set<String> {
        var ids: Set<String> = []
        var from: UInt64 = 0
        while true {
            let page = store.onQueue { store.ledger.owed(to: sink, from: from, limit: pageSize) }
            guard let last = page.last else { return ids }
            for entry in page {
                // An event delivered meanwhile may have left with its segment: no line of it is pending any more.
                do {
                    ids.formUnion(try reader.event(sequence: entry.sequence, at: entry.location).lineIDs)
                } catch  where !store.isPending(sequence: entry.sequence, sink: sink) {
                    continue
                }
            }
            from = last.sequence + 1
        }
    }

    /// Closes the descriptors (also done when the feed is released).
    public func close() {
        reader.close()
    }
}
