import Dispatch
import Logging
import Metrics

/// Durable storage under the ingest path: journal + dedup + delivery ledger, behind one serial queue.
///
/// - Accepting: requests queue up while the previous batch is being written; the queue then takes everything
///   queued as one batch — one `pwrite` and one `fdatasync` (group commit) — and only after that sync succeeded
///   calls each completion with ``AcceptOutcome/stored(_:)``. A write or sync error fails every request of the
///   batch, cuts the journal back, and later batches are tried afresh (appends work again once space returns).
/// - Dedup: ids are remembered as 16-byte fingerprints for `dedupRetentionSeconds` (default 7 days) up to
///   `dedupCapacity` (default 2,000,000) entries. Ids of events still in journal segments are rebuilt by replay;
///   ids of deleted segments are kept in `dedup.log` (see ``DedupFile``). A request whose id is in a batch being
///   written gets the same outcome as that one: ``AcceptOutcome/duplicate`` if it succeeds, the same failure if not.
/// - Ledger: the sinks of an event are stored in its record; ``markDelivered(sequence:sink:position:completion:)``
///   appends a small record batched like appends. A segment whose events are all delivered is deleted (oldest
///   first, never the active one) after its ids were saved to `dedup.log`.
///
/// Completions are called on the store's queue: they must be quick and must not call back synchronously into
/// ``pendingDeliveries()``, ``lastPosition(sink:)``, ``statistics`` or ``close()``.
public final class EventStore: @unchecked Sendable {
    /// Counters for tests and diagnostics.
    public struct Statistics: Sendable, Equatable {
        /// Events journaled since open.
        public var appendedEvents: Int
        /// Data syncs issued by the journal since open.
        public var syncs: Int
        /// Ids currently remembered for deduplication.
        public var dedupEntries: Int
        /// Journal segment files on disk.
        public var segments: Int
    }

    private enum Request {
        case accept(StoredEvent, key: DedupKey, sinks: [String], completion: @Sendable (AcceptOutcome) -> Void)
        case mark(
            sequence: UInt64, sink: String, position: SinkPosition?,
            completion: (@Sendable (StorageError?) -> Void)?)
    }

    /// The serial queue that owns all state (internal so tests can hold it to build a deterministic batch).
    let queue = DispatchQueue(label: "vipps-webhookd.event-store")
    private let options: EventStoreOptions
    private let logger: Logger
    // Everything below is touched only on `queue` (or in `init`, before the store is shared).
    private let journal: Journal
    private let dedupFile: DedupFile
    private var index: DedupIndex
    private var ledger = DeliveryLedger()
    private var nextSequence: UInt64 = 1
    private var queued: [Request] = []
    private var flushScheduled = false
    private var appendedEvents = 0

    private let fsyncTimer = Timer(label: "vipps_webhookd_journal_fsync_seconds")
    private let errorCounter = Counter(label: "vipps_webhookd_journal_errors_total")
    private let dedupHits = Counter(label: "vipps_webhookd_dedup_hits_total")
    private let batchSize = Recorder(label: "vipps_webhookd_journal_batch_size")

    /// Opens (creating) the store in `directory`: replays the journal, recovers a torn tail, loads the dedup file.
    /// - Throws: ``StorageError`` when the directory or its files cannot be read or created.
    public init(directory: String, options: EventStoreOptions = EventStoreOptions(), logger: Logger) throws {
        self.options = options
        self.logger = logger
        let notBefore = options.now() - options.dedupRetentionSeconds * 1000
        var index = DedupIndex(capacity: options.dedupCapacity)
        try Syscall.makeDirectories(directory)
        dedupFile = try DedupFile(
            directory: directory, faults: options.faults, loadingInto: &index, notBefore: notBefore)
        var ledger = DeliveryLedger()
        var nextSequence: UInt64 = 1
        journal = try Journal(
            directory: directory,
            options: Journal.Options(segmentSize: options.segmentSize, preallocate: options.preallocateSegments),
            faults: options.faults, logger: logger,
            checkpoint: {
                try JournalRecord.checkpoint(nextSequence: nextSequence, positions: ledger.positions).frame()
            },
            visit: { record, location in
                switch record {
                case .event(let event, let sinks):
                    nextSequence = max(nextSequence, event.sequence + 1)
                    if event.receivedAtMillis >= notBefore {
                        index.insert(DedupKey(id: event.id), millis: event.receivedAtMillis)
                    }
                    ledger.add(sequence: event.sequence, sinks: sinks, at: location)
                case .delivered(let sequence, let sink, let position):
                    ledger.markDelivered(sequence: sequence, sink: sink, position: position)
                case .checkpoint(let next, let positions):
                    nextSequence = max(nextSequence, next)
                    ledger.restore(positions: positions)
                }
            })
        index.evict(before: notBefore)
        self.index = index
        self.ledger = ledger
        self.nextSequence = nextSequence
        logger.info(
            "event store opened",
            metadata: [
                "directory": "\(directory)", "next_sequence": "\(nextSequence)",
                "pending": "\(ledger.pending.count)", "dedup_entries": "\(index.count)",
            ])
        queue.sync { retireCompletedSegments() }
    }

    /// Journals an event unless its id was accepted before, calling `completion` once the outcome is durable.
    /// - Parameters:
    ///   - id: the event id (`webhook-id` header, or hex SHA-256 of the body).
    ///   - sinks: names of the sinks the event is routed to; stored with it and returned by ``pendingDeliveries()``.
    ///   - completion: called exactly once, on the store's queue.
    public func accept(
        id: String, type: String, endpoint: String, receivedAtMillis: Int64, body: [UInt8], sinks: [String],
        completion: @escaping @Sendable (AcceptOutcome) -> Void
    ) {
        let event = StoredEvent(
            sequence: 0, id: id, type: type, endpoint: endpoint, receivedAtMillis: receivedAtMillis, body: body)
        let key = DedupKey(id: id)
        queue.async { self.enqueue(.accept(event, key: key, sinks: sinks, completion: completion)) }
    }

    /// Records that event `sequence` was delivered to `sink`; batched and synced like appends.
    ///
    /// Marking an event that is not pending for `sink` (unknown, or already marked) writes nothing and succeeds.
    /// - Parameters:
    ///   - position: for file sinks, where the file stood after the line was written (see ``FileSink``).
    ///   - completion: called once the mark is durable (nil) or failed (the caller may retry), on the store's queue.
    public func markDelivered(
        sequence: UInt64, sink: String, position: SinkPosition? = nil,
        completion: (@Sendable (StorageError?) -> Void)? = nil
    ) {
        queue.async {
            self.enqueue(.mark(sequence: sequence, sink: sink, position: position, completion: completion))
        }
    }

    /// Whether event `sequence` still awaits delivery to `sink` (false once marked, or when unknown).
    public func isPending(sequence: UInt64, sink: String) -> Bool {
        queue.sync { ledger.awaits(sequence: sequence, sink: sink) }
    }

    /// Events journaled but not yet delivered to all their sinks, in sequence order, read back from the journal.
    public func pendingDeliveries() throws -> [PendingDelivery] {
        try queue.sync {
            try ledger.pendingInOrder().map { entry in
                guard case .event(let event, _) = try journal.read(at: entry.location), event.sequence == entry.sequence
                else {
                    throw StorageError(.corrupt, call: "pendingDeliveries", detail: "sequence \(entry.sequence)")
                }
                return PendingDelivery(event: event, sinks: entry.sinks)
            }
        }
    }

    /// The last position reported for `sink` with a delivered mark (survives restarts and segment deletion).
    public func lastPosition(sink: String) -> SinkPosition? {
        queue.sync { ledger.positions[sink] }
    }

    /// Current counters.
    public var statistics: Statistics {
        queue.sync {
            Statistics(
                appendedEvents: appendedEvents, syncs: journal.syncCount, dedupEntries: index.count,
                segments: journal.segments.count)
        }
    }

    /// Closes the files; requests still queued and later ones fail with ``StorageError/Code/unavailable``.
    public func close() {
        queue.sync {
            if !queued.isEmpty { flush() }  // Marks and accepts queued before close are written, not dropped.
            journal.close()
            dedupFile.close()
        }
    }

    // MARK: - Batching (on `queue`)

    private func enqueue(_ request: Request) {
        guard queued.count < options.maxQueuedRequests else {
            let error = StorageError(.unavailable, call: "accept", detail: "journal queue full")
            errorCounter.increment()
            switch request {
            case .accept(_, _, _, let completion): completion(.failed(error))
            case .mark(_, _, _, let completion): completion?(error)
            }
            return
        }
        queued.append(request)
        if !flushScheduled {
            flushScheduled = true
            queue.async { self.flush() }
        }
    }

    private func flush() {
        flushScheduled = false
        guard !queued.isEmpty else { return }
        let batch = queued
        queued = []
        var frames: [UInt8] = []
        var stored: [(event: StoredEvent, key: DedupKey, sinks: [String], offset: UInt64,
                      completion: @Sendable (AcceptOutcome) -> Void)] = []
        var followers: [DedupKey: [@Sendable (AcceptOutcome) -> Void]] = [:]
        var marks: [(sequence: UInt64, sink: String, position: SinkPosition?,
                     completion: (@Sendable (StorageError?) -> Void)?)] = []
        var sequence = nextSequence
        for request in batch {
            switch request {
            case .accept(var event, let key, let sinks, let completion):
                if index.contains(key) {
                    dedupHits.increment()
                    completion(.duplicate)
                } else if followers[key] != nil {
                    followers[key]!.append(completion)
                } else {
                    event.sequence = sequence
                    do {
                        let frame = try JournalRecord.event(event, sinks: sinks).frame()
                        stored.append((event, key, sinks, UInt64(frames.count), completion))
                        followers[key] = []
                        frames += frame
                        sequence += 1
                    } catch let error as StorageError {
                        completion(.failed(error))
                    } catch {
                        preconditionFailure("frame() throws only StorageError")
                    }
                }
            case .mark(let sequence, let sink, let position, let completion):
                guard ledger.awaits(sequence: sequence, sink: sink) else {
                    completion?(nil)
                    continue
                }
                // Encoding a mark cannot fail for a sink name that was encoded with its event.
                let record = JournalRecord.delivered(sequence: sequence, sink: sink, position: position)
                frames += (try? record.frame()) ?? []
                marks.append((sequence, sink, position, completion))
            }
        }
        guard !frames.isEmpty else { return }
        batchSize.record(stored.count + marks.count)
        let started = DispatchTime.now().uptimeNanoseconds
        let location: Journal.Location
        do {
            location = try journal.append(frames) {
                try JournalRecord.checkpoint(nextSequence: nextSequence, positions: ledger.positions).frame()
            }
        } catch {
            let failure = error as? StorageError ?? StorageError(.unavailable, call: "append")
            errorCounter.increment()
            logger.error(
                "journal append failed; batch rejected",
                metadata: ["error": "\(failure)", "events": "\(stored.count)", "marks": "\(marks.count)"])
            for entry in stored {
                entry.completion(.failed(failure))
                for follower in followers[entry.key] ?? [] { follower(.failed(failure)) }
            }
            for mark in marks { mark.completion?(failure) }
            return
        }
        fsyncTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        nextSequence = sequence
        appendedEvents += stored.count
        for entry in stored {
            index.insert(entry.key, millis: entry.event.receivedAtMillis)
            ledger.add(
                sequence: entry.event.sequence, sinks: entry.sinks,
                at: Journal.Location(segment: location.segment, offset: location.offset + entry.offset))
        }
        for mark in marks {
            ledger.markDelivered(sequence: mark.sequence, sink: mark.sink, position: mark.position)
        }
        index.evict(before: options.now() - options.dedupRetentionSeconds * 1000)
        for entry in stored {
            entry.completion(.stored(entry.event))
            for follower in followers[entry.key] ?? [] {
                dedupHits.increment()
                follower(.duplicate)
            }
        }
        for mark in marks { mark.completion?(nil) }
        if !marks.isEmpty { retireCompletedSegments() }
    }

    // MARK: - Segment retirement (on `queue`)

    /// Deletes the oldest segments whose events are all delivered, saving their ids to the dedup file first.
    private func retireCompletedSegments() {
        let notBefore = options.now() - options.dedupRetentionSeconds * 1000
        while journal.segments.count > 1, let oldest = journal.segments.first, ledger.isComplete(segment: oldest) {
            do {
                var entries: [(key: DedupKey, millis: Int64)] = []
                try journal.records(inSegment: oldest) { record in
                    if case .event(let event, _) = record, event.receivedAtMillis >= notBefore {
                        entries.append((DedupKey(id: event.id), event.receivedAtMillis))
                    }
                }
                try dedupFile.append(entries)
                try journal.removeSegment(oldest)
                if dedupFile.entryCount > 2 * options.dedupCapacity {
                    try dedupFile.rewrite(index.entries)
                }
                logger.debug("deleted delivered journal segment", metadata: ["segment": "\(oldest)"])
            } catch {
                errorCounter.increment()
                logger.error("could not delete a delivered journal segment", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
