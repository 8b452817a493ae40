import Dispatch
import Logging
import Metrics
import POSIX

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
///   and ``markDelivered(_:completion:)`` append small records batched like appends. A segment whose events are all
///   delivered is deleted (oldest first, never the active one, nor a damaged one not yet copied aside) after its ids
///   were saved to `dedup.log`.
/// - Off the store's queue: the next journal segment is prepared in the background (see ``Journal``), and segment
///   retirement (appending ids to `dedup.log`, its sync, deleting the file, the directory sync) runs on a second
///   serial queue. The ids of a segment come from memory (kept per live segment, 24 bytes per event), not from
///   re-reading the file; the store's queue only hands the work over and takes the result back.
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
        /// Segment rotations that used a segment pre-allocated in the background.
        public var preparedRotations: Int
        /// Segment rotations that started a plain segment because none was prepared in time.
        public var plainRotations: Int
        /// Ids dropped from deduplication for room while still within the retention.
        public var dedupEvictionsWithinRetention = 0
    }

    /// One delivered mark of a batch: event `sequence` went to `sink`, which then stood at `position` (file sinks).
    public typealias DeliveredMark = (sequence: UInt64, sink: String, position: SinkPosition?)

    /// One accept on its way through a batch. A reference, so that queueing, batching and completing it pass one
    /// pointer instead of copying the event (each copy of a `StoredEvent` retains its strings and its body).
    /// Created on the caller's thread and handed to the store's queue once; touched only there afterwards.
    private final class Accept: @unchecked Sendable {
        /// The event, with sequence 0 (a constant: framing it borrows it, where a variable would be copied).
        let event: StoredEvent
        /// Its sequence, assigned when it is framed.
        var sequence: UInt64 = 0
        let key: DedupKey
        let legacyKeys: [DedupKey]
        let sinks: [String]
        let completion: @Sendable (AcceptOutcome) -> Void
        /// Where its frame starts in the batch's bytes.
        var offset: UInt64 = 0
        /// Completions of later requests of the same batch with the same id: they get this one's outcome.
        var followers: [@Sendable (AcceptOutcome) -> Void] = []

        init(
            _ event: StoredEvent,
            key: DedupKey,
            legacyKeys: [DedupKey],
            sinks: [String],
            completion: @escaping @Sendable (AcceptOutcome) -> Void
        ) {
            self.event = event
            self.key = key
            self.legacyKeys = legacyKeys
            self.sinks = sinks
            self.completion = completion
        }
    }

    /// The accept stored first for each id of a batch (later ones with that id follow it): found by a linear search
    /// while the batch is small (no hashing, no table to allocate), through a table once it has more than 16.
    private struct BatchLeaders {
        private static let linearSearchLimit = 16
        private var table: [DedupKey: Accept] = [:]

        /// The accept of `stored` (this batch's stored accepts so far) with `key`, if any.
        func leader(of key: DedupKey, stored: [Accept]) -> Accept? {
            stored.count <= Self.linearSearchLimit ? stored.first { $0.key == key } : table[key]
        }

        /// Records `accept`, just appended to `stored`.
        mutating func add(_ accept: Accept, stored: [Accept]) {
            guard stored.count > Self.linearSearchLimit else { return }
            if table.isEmpty {
                for earlier in stored { table[earlier.key] = earlier }
            } else {
                table[accept.key] = accept
            }
        }
    }

    private enum Request {
        case accept(Accept)
        case marks([DeliveredMark], completion: (@Sendable (StorageError?) -> Void)?)
    }

    /// A fully delivered segment handed to the retirement queue.
    private struct Retirement: Sendable {
        var segment: UInt64
        var path: String
        /// Ids of its events (filtered by retention on the retirement queue).
        var entries: [(key: DedupKey, millis: Int64)]
    }

    /// The serial queue that owns all state (internal so tests can hold it to build a deterministic batch).
    let queue: DispatchQueue = {
        let queue = DispatchQueue(label: "vipps-webhookd.event-store")
        queue.setSpecific(key: EventStore.queueKey, value: ObjectIdentifier(queue))
        return queue
    }()
    /// Tells whether the current thread runs on a store's queue (see ``onQueue(_:)``).
    static let queueKey = DispatchSpecificKey<ObjectIdentifier>()
    /// The serial queue that retires delivered segments and alone uses `dedupFile` (internal so tests can hold it).
    let retireQueue = DispatchQueue(label: "vipps-webhookd.segment-retirement", qos: .utility)
    private let options: EventStoreOptions
    /// How long an accepted id is remembered (milliseconds): an event older than this may have been received and
    /// forgotten, so nothing can tell whether it is new.
    public var dedupRetentionMillis: Int64 { options.dedupRetentionSeconds * 1000 }
    /// Acceptance time of the newest id dropped for room (`dedupCapacity` reached) while still within the
    /// retention, or nil when none was: an event accepted at or before it may have been received and forgotten.
    public var dedupDroppedThroughMillis: Int64? { queue.sync { index.newestEarlyEvictionMillis } }
    private let logger: Logger
    private let dedupFile: DedupFile
    // Everything below is touched only on `queue` (or in `init`, before the store is shared).
    /// The journal (internal so tests can reach its segment preparer).
    let journal: Journal
    private var index: DedupIndex
    /// Fingerprints of ids given by versions before ids came from signed content (see ``LegacyDedup``).
    private let legacy: LegacyDedup
    /// Whether `legacy` held any fingerprint at open (read from any thread; never changes).
    private let hasLegacy: Bool
    /// While fingerprints of an earlier version's ids are still live: when this version took the state directory
    /// over (milliseconds since 1970). Events from before it may be known only by such a fingerprint, which an event
    /// rebuilt from the vendor's log can never match, so reconciliation leaves them alone. Nil otherwise.
    public let upgradedAtMillis: Int64?
    /// Ids (within retention when journaled) of the events in each live segment, saved to `dedup.log` on retirement.
    private var segmentKeys: [UInt64: [(key: DedupKey, millis: Int64)]] = [:]
    /// Whether a retirement is on `retireQueue` (one at a time keeps deletion oldest-first).
    private var retiring = false
    var closed = false
    var ledger = DeliveryLedger()
    private var nextSequence: UInt64 = 1
    private var queued: [Request] = []
    /// The last batch's array, emptied, for `queued` after the next flush (see `flush()`).
    private var spareQueued = SpareStorage<Request>()
    /// The last batch's bytes, emptied: the next batch is framed into its storage instead of a new allocation (kept
    /// only up to ``spareFramesLimit`` bytes of capacity, so one large batch does not pin its memory).
    private var spareFrames = SpareStorage<UInt8>()
    private static let spareFramesLimit = 1 << 20
    private var flushScheduled = false

    /// Requests handed over from other threads, taken by `queue` in one hop per burst.
    private let inbox = CoalescingInbox<Request>()
    private var appendedEvents = 0
    /// Early dedup evictions already counted, already logged, and when the last log line was written (uptime ns).
    private var reportedEarlyEvictions = 0
    private var loggedEarlyEvictions = 0
    private var lastEarlyEvictionLog: UInt64?
    /// Told when the journal reaches a dead end (see ``onDeadEnd(_:)``).
    private var deadEndHandler: (@Sendable (StorageError) -> Void)?

    private let fsyncTimer = Timer(label: "vipps_webhookd_journal_fsync_seconds")
    private let errorCounter = Counter(label: "vipps_webhookd_journal_errors_total")
    /// Failed appends' log lines, at most one a second.
    private let appendFailures: RateLimitedLog
    private let legacyDedupHits = Counter(label: "vipps_webhookd_dedup_legacy_hits_total")
    private let batchSize = Recorder(label: "vipps_webhookd_journal_batch_size")
    private let corruptCounter = Counter(label: "vipps_webhookd_journal_corrupt_records_total")
    private let earlyEvictionCounter = Counter(label: "vipps_webhookd_dedup_evictions_within_retention_total")

    /// Opens (creating) the store in `directory`: replays the journal, recovers a torn tail, loads the dedup file.
    /// - Throws: ``StorageError`` when the directory or its files cannot be read or created.
    public init(directory: String, options: EventStoreOptions = EventStoreOptions(), logger: Logger) throws {
        self.options = options
        self.logger = logger
        appendFailures = RateLimitedLog(logger: logger, linesPerInterval: 1)
        let notBefore = options.now() - options.dedupRetentionSeconds * 1000
        var index = DedupIndex(capacity: options.dedupCapacity)
        index.evict(before: notBefore)  // sets the retention floor, so evictions for room are told apart
        try Syscall.makeDirectories(directory)
        let legacy = try LegacyDedup(
            directory: directory,
            capacity: options.dedupCapacity,
            notBefore: notBefore,
            faults: options.faults
        )
        var legacyJournalEntries: [(key: DedupKey, millis: Int64)] = []
        dedupFile = try DedupFile(
            directory: directory,
            faults: options.faults,
            loadingInto: &index,
            notBefore: notBefore
        )
        var ledger = DeliveryLedger()
        var nextSequence: UInt64 = 1
        var segmentKeys: [UInt64: [(key: DedupKey, millis: Int64)]] = [:]
        journal = try Journal(
            directory: directory,
            options: Journal.Options(
                segmentSize: options.segmentSize,
                preallocate: options.preallocateSegments,
                asideDirectory: options.asideDirectory ?? directory + "/corrupt"
            ),
            faults: options.faults,
            logger: logger,
            checkpoint: {
                try JournalRecord.checkpoint(nextSequence: nextSequence, positions: ledger.positions).frame()
            },
            visit: { record, location in
                switch record {
                case .event(let event, let sinks):
                    nextSequence = max(nextSequence, event.sequence + 1)
                    if event.receivedAtMillis >= notBefore {
                        let key = DedupKey(id: event.id)
                        index.insert(key, millis: event.receivedAtMillis)
                        segmentKeys[location.segment, default: []].append((key, event.receivedAtMillis))
                        if let legacyID = event.legacyID {
                            legacyJournalEntries.append((DedupKey(id: legacyID), event.receivedAtMillis))
                        }
                    }
                    ledger.add(sequence: event.sequence, sinks: sinks, at: location)
                case .delivered(let sequence, let sink, let position):
                    nextSequence = max(nextSequence, sequence + 1)  // Its event's record may be damaged.
                    ledger.markDelivered(sequence: sequence, sink: sink, position: position)
                case .checkpoint(let next, let positions):
                    nextSequence = max(nextSequence, next)
                    ledger.restore(positions: positions)
                }
            }
        )
        if journal.corruptRecords > 0 {
            // A damaged region may have held events numbered past every readable one: never hand those out again.
            nextSequence += journal.damagedBytes / UInt64(JournalFrame.minimumEventFrame) + 1
            corruptCounter.increment(by: journal.corruptRecords)
        }
        errorCounter.increment(by: journal.uncopiedSegments.count)  // Each logged by the journal.
        index.evict(before: notBefore)
        try legacy.finish(journalEntries: legacyJournalEntries, notBefore: notBefore)
        if legacy.migrating {
            logger.notice(
                "dedup state migrated to ids derived from signed content; earlier ids kept as legacy entries",
                metadata: [
                    "from_dedup_log": .stringConvertible(legacy.movedFromDedupLog),
                    "from_journal": .stringConvertible(legacyJournalEntries.count),
                    "legacy_entries": .stringConvertible(legacy.index.count),
                ]
            )
        }
        self.legacy = legacy
        hasLegacy = legacy.index.count > 0
        upgradedAtMillis = hasLegacy ? legacy.markerMillis : nil
        self.index = index
        self.segmentKeys = segmentKeys
        self.ledger = ledger
        self.nextSequence = nextSequence
        logger.info(
            "event store opened",
            metadata: [
                "directory": "\(directory)", "next_sequence": .stringConvertible(nextSequence),
                "pending": .stringConvertible(ledger.pending.count), "dedup_entries": .stringConvertible(index.count),
                "corrupt_records": .stringConvertible(journal.corruptRecords),
                "legacy_dedup_entries": .stringConvertible(legacy.index.count),
            ]
        )
        journal.onBroken = { [weak self] error in self?.reachedDeadEnd(error) }
        reportEarlyEvictions()
        queue.sync { retireCompletedSegments() }
    }

    /// Calls `handler` once (on the store's queue) when the journal can no longer be written or cut back: from then
    /// on every accept and mark fails until the process restarts. Called at once when that already happened.
    public func onDeadEnd(_ handler: @escaping @Sendable (StorageError) -> Void) {
        queue.sync {
            deadEndHandler = handler
            if !closed, let broken = journal.broken { handler(broken) }
        }
    }

    /// Why the journal can no longer be written or cut back, or nil while it works.
    public var deadEnd: StorageError? {
        queue.sync { journal.broken == nil || closed ? nil : journal.broken }
    }

    /// Counts ids dropped from the dedup index for room while still within the retention, and logs them at most
    /// once a minute (a redelivery of such an id would be accepted and delivered again); on `queue` or in `init`.
    private func reportEarlyEvictions() {
        let evicted = index.earlyEvictions - reportedEarlyEvictions
        guard evicted > 0 else { return }
        earlyEvictionCounter.increment(by: evicted)
        let now = DispatchTime.now().uptimeNanoseconds
        guard lastEarlyEvictionLog.map({ now - $0 >= 60_000_000_000 }) ?? true else { return }
        let ageSeconds = index.newestEarlyEvictionMillis.map { (options.now() - $0) / 1000 } ?? 0
        logger.warning(
            """
            dedup capacity reached: ids younger than the retention were forgotten; a redelivery of one of them \
            would be accepted again (raise dedup_max_ids if memory allows)
            """,
            metadata: [
                "evicted_since_last_line": "\(index.earlyEvictions - loggedEarlyEvictions)",
                "evicted_total": "\(index.earlyEvictions)", "capacity": "\(index.capacity)",
                "newest_evicted_age_seconds": .stringConvertible(ageSeconds),
                "retention_seconds": .stringConvertible(options.dedupRetentionSeconds),
            ]
        )
        lastEarlyEvictionLog = now
        loggedEarlyEvictions = index.earlyEvictions
        reportedEarlyEvictions = index.earlyEvictions
    }

    /// Reports the journal's dead end once; on `queue`.
    private func reachedDeadEnd(_ error: StorageError) {
        logger.error(
            "journal reached a dead end: every webhook is refused until the daemon restarts",
            metadata: ["error": "\(error)"]
        )
        deadEndHandler?(error)
    }

    /// Journals an event unless its id was accepted before, calling `completion` once the outcome is durable.
    ///
    /// An event whose id is unknown is also a duplicate when a legacy fingerprint (see ``LegacyDedup``) matches its
    /// `webhookID` or its body hash: each such hit is logged and counted.
    /// - Parameters:
    ///   - id: the event id, derived from the signed body (`EventIdentity` in VippsWebhooks).
    ///   - webhookID: the request's `webhook-id` header when usable, kept for correlation (never part of the id).
    ///   - source: how the event arrived.
    ///   - sinks: names of the sinks the event is routed to; stored with it and returned by ``pendingDeliveries()``.
    ///   - completion: called exactly once, on the store's queue.
    public func accept(
        id: String,
        webhookID: String? = nil,
        source: EventSource = .webhook,
        type: String,
        endpoint: String,
        receivedAtMillis: Int64,
        body: [UInt8],
        sinks: [String],
        completion: @escaping @Sendable (AcceptOutcome) -> Void
    ) {
        let event = StoredEvent(
            sequence: 0,
            id: id,
            type: type,
            endpoint: endpoint,
            receivedAtMillis: receivedAtMillis,
            body: body,
            webhookID: webhookID,
            source: source
        )
        let key = DedupKey(id: id)
        let legacyKeys = hasLegacy ? LegacyDedup.candidateKeys(webhookID: webhookID, body: body) : []
        submit(.accept(Accept(event, key: key, legacyKeys: legacyKeys, sinks: sinks, completion: completion)))
    }

    /// Records that event `sequence` was delivered to `sink`; batched and synced like appends.
    ///
    /// Marking an event that is not pending for `sink` (unknown, or already marked) writes nothing and succeeds.
    /// - Parameters:
    ///   - position: for file sinks, where the file stood after the line was written (see `FileSink` in Delivery).
    ///   - completion: called once the mark is durable (nil) or failed (the caller may retry), on the store's queue.
    public func markDelivered(
        sequence: UInt64,
        sink: String,
        position: SinkPosition? = nil,
        completion: (@Sendable (StorageError?) -> Void)? = nil
    ) {
        markDelivered([(sequence, sink, position)], completion: completion)
    }

    /// Records several deliveries at once (e.g. a file sink's batch): one hand-off to the store's queue, written in
    /// the same journal batch, in order. Marks of events not pending for their sink write nothing.
    /// - Parameters:
    ///   - marks: the deliveries; a position is remembered per sink (the last one given wins).
    ///   - completion: called once, on the store's queue: nil when every mark is durable, else the error of the
    ///     batch, in which case none of them is recorded (the caller may retry them all).
    public func markDelivered(
        _ marks: [DeliveredMark],
        completion: (@Sendable (StorageError?) -> Void)? = nil
    ) {
        submit(.marks(marks, completion: completion))
    }

    /// Whether event `sequence` still awaits delivery to `sink` (false once marked, or when unknown).
    public func isPending(sequence: UInt64, sink: String) -> Bool {
        queue.sync { ledger.awaits(sequence: sequence, sink: sink) }
    }

    /// Whether `event` itself still awaits delivery to `sink`: its sequence is pending for the sink, and the journal's
    /// record at that sequence is this event (an id of one is an id of the other). Sequences start again when a
    /// journal is set aside, so an event kept elsewhere (a dead letter) may share its sequence with another one.
    /// - Throws: `StorageError` when the journal's record at that sequence cannot be read (neither answer is known).
    public func isPending(_ event: StoredEvent, sink: String) throws(StorageError) -> Bool {
        let answer: Result<Bool, StorageError> = queue.sync {
            guard ledger.awaits(sequence: event.sequence, sink: sink),
                let location = ledger.location(of: event.sequence)
            else { return .success(false) }
            let record: JournalRecord
            do {
                record = try journal.read(at: location)
            } catch {
                return .failure(
                    StorageError(converting: error) ?? StorageError(.corrupt, call: "isPending", detail: "\(error)")
                )
            }
            guard case .event(let journaled, _) = record, journaled.sequence == event.sequence else {
                return .success(false)
            }
            return .success(journaled.lineIDs.contains { event.lineIDs.contains($0) })
        }
        return try answer.get()
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

    /// Current counters, read once the segment retirements already under way have finished.
    public var statistics: Statistics {
        while queue.sync(execute: { retiring }) { retireQueue.sync {} }
        return queue.sync {
            Statistics(
                appendedEvents: appendedEvents,
                syncs: journal.syncCount,
                dedupEntries: index.count,
                segments: journal.segments.count,
                preparedRotations: journal.preparedRotations,
                plainRotations: journal.plainRotations,
                dedupEvictionsWithinRetention: index.earlyEvictions
            )
        }
    }

    /// Closes the files (after a retirement under way); requests still queued and later ones fail with
    /// ``StorageError/Code/unavailable``.
    public func close() {
        queue.sync {
            inbox.drain { enqueue($0) }
            if !queued.isEmpty { flush() }  // Marks and accepts queued before close are written, not dropped.
            closed = true
            journal.close()
        }
        retireQueue.sync { dedupFile.close() }
    }

    // MARK: - Batching (on `queue`)

    /// Hands `request` to `queue` (from any thread).
    private func submit(_ request: Request) {
        if inbox.append(request) {
            queue.async { self.inbox.drain { self.enqueue($0) } }
        }
    }

    private func enqueue(_ request: Request) {
        guard !closed, queued.count < options.maxQueuedRequests else {
            let error = StorageError(
                .unavailable,
                call: "accept",
                detail: closed ? "event store closed" : "journal queue full"
            )
            errorCounter.increment()
            switch request {
            case .accept(let accept): accept.completion(.failed(error))
            case .marks(_, let completion): completion?(error)
            }
            return
        }
        queued.append(request)
        if !flushScheduled {
            flushScheduled = true
            // The batch's answers go to the connections' loops with one wake-up per loop (and one more for those given
            // before its sync, sent before it).
            queue.async { EventLoop.batchingWakeUps { self.flush() } }
        }
    }

    private func flush() {
        flushScheduled = false
        guard !queued.isEmpty else { return }
        // The batch's array and bytes go back emptied, so the next batch does not regrow them.
        var batch = spareQueued.take(&queued)
        defer { if SpareStorage.emptied(&batch, keepingUpTo: options.maxQueuedRequests) { spareQueued.keep(&batch) } }
        var frames = spareFrames.take()
        defer { if SpareStorage.emptied(&frames, keepingUpTo: Self.spareFramesLimit) { spareFrames.keep(&frames) } }
        var stored: [Accept] = []
        stored.reserveCapacity(batch.count)
        var leaders = BatchLeaders()
        var marks: [DeliveredMark] = []
        var markCompletions: [@Sendable (StorageError?) -> Void] = []
        var sequence = nextSequence
        frames.reserveCapacity(
            batch.reduce(0) { total, request in
                guard case .accept(let accept) = request else { return total + 64 }
                return total + 160 + accept.event.body.count + accept.event.id.utf8.count
            } + JournalFrame.maximumPadding  // The journal pads the batch in place.
        )
        for request in batch {
            switch request {
            case .accept(let accept):
                let key = accept.key
                if index.contains(key) {
                    accept.completion(.duplicate)
                } else if let leader = leaders.leader(of: key, stored: stored) {
                    leader.followers.append(accept.completion)
                } else if legacy.contains(anyOf: accept.legacyKeys) {
                    legacyDedupHits.increment()
                    logger.notice(
                        "duplicate of an event accepted before the upgrade (legacy dedup entry); not stored again",
                        metadata: ["id": "\(accept.event.id)", "webhook_id": "\(accept.event.webhookID ?? "-")"]
                    )
                    accept.completion(.duplicate)
                } else {
                    accept.sequence = sequence
                    accept.offset = UInt64(frames.count)
                    do {
                        try JournalRecord.frameEvent(
                            accept.event,
                            sequence: sequence,
                            sinks: accept.sinks,
                            into: &frames
                        )
                        stored.append(accept)
                        leaders.add(accept, stored: stored)
                        sequence += 1
                    } catch let error as StorageError {
                        accept.completion(.failed(error))
                    } catch {
                        preconditionFailure("frameEvent(_:sinks:into:) throws only StorageError")
                    }
                }
            case .marks(let requested, let completion):
                var wrote = false
                for mark in requested where ledger.awaits(sequence: mark.sequence, sink: mark.sink) {
                    // Encoding a mark cannot fail for a sink name that was encoded with its event.
                    do {
                        try JournalRecord.frameDelivered(
                            sequence: mark.sequence,
                            sink: mark.sink,
                            position: mark.position,
                            into: &frames
                        )
                    } catch {
                        continue
                    }
                    marks.append(mark)
                    wrote = true
                }
                if wrote {
                    if let completion { markCompletions.append(completion) }
                } else {
                    completion?(nil)
                }
            }
        }
        guard !frames.isEmpty else { return }
        // The answers given so far (duplicates, refusals) must not wait for the sync.
        EventLoop.sendHeldWakeUps()
        batchSize.record(stored.count + marks.count)
        let started = DispatchTime.now().uptimeNanoseconds
        let location: Journal.Location
        do {
            location = try journal.append(&frames) {
                try JournalRecord.checkpoint(nextSequence: nextSequence, positions: ledger.positions).frame()
            }
        } catch {
            let failure = StorageError(converting: error) ?? StorageError(.unavailable, call: "append")
            errorCounter.increment()
            // A full disk fails every batch: one line a second, then how many were not logged (each is counted).
            appendFailures.log(
                .error,
                kind: "journal_append_failed",
                "journal append failed; batch rejected",
                metadata: [
                    "error": "\(failure)", "events": .stringConvertible(stored.count),
                    "marks": .stringConvertible(marks.count),
                ]
            )
            for entry in stored {
                entry.completion(.failed(failure))
                for follower in entry.followers { follower(.failed(failure)) }
            }
            for completion in markCompletions { completion(failure) }
            return
        }
        fsyncTimer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        nextSequence = sequence
        appendedEvents += stored.count
        let notBefore = options.now() - options.dedupRetentionSeconds * 1000
        for entry in stored {
            index.insert(entry.key, millis: entry.event.receivedAtMillis)
            if entry.event.receivedAtMillis >= notBefore {
                segmentKeys[location.segment, default: []].append((entry.key, entry.event.receivedAtMillis))
            }
            ledger.add(
                sequence: entry.sequence,
                sinks: entry.sinks,
                at: Journal.Location(segment: location.segment, offset: location.offset + entry.offset)
            )
        }
        for mark in marks {
            ledger.markDelivered(sequence: mark.sequence, sink: mark.sink, position: mark.position)
        }
        index.evict(before: notBefore)
        reportEarlyEvictions()
        if hasLegacy { legacy.evict(before: notBefore) }
        for entry in stored {
            var event = entry.event  // Shares the strings and body: only the sequence is set.
            event.sequence = entry.sequence
            entry.completion(.stored(event))
            for follower in entry.followers { follower(.duplicate) }
        }
        for completion in markCompletions { completion(nil) }
        if !marks.isEmpty { retireCompletedSegments() }
    }

    // MARK: - Segment retirement

    /// Hands the oldest segments whose events are all delivered (never the active one) to `retireQueue`; on `queue`.
    private func retireCompletedSegments() {
        guard !retiring, !closed else { return }
        var retirements: [Retirement] = []
        for segment in journal.segments.dropLast() {
            // A damaged segment whose copy aside failed stays until a later open copies it.
            guard ledger.isComplete(segment: segment), !journal.uncopiedSegments.contains(segment) else { break }
            retirements.append(
                Retirement(segment: segment, path: journal.path(of: segment), entries: segmentKeys[segment] ?? [])
            )
        }
        guard !retirements.isEmpty else { return }
        retiring = true
        let notBefore = options.now() - options.dedupRetentionSeconds * 1000
        retireQueue.async { [retirements] in self.retire(retirements, notBefore: notBefore) }
    }

    /// Saves the ids of each segment to `dedup.log`, then deletes its file, oldest first, stopping at the first
    /// failure (a later segment may hold the delivered marks of an earlier one); on `retireQueue`.
    private func retire(_ retirements: [Retirement], notBefore: Int64) {
        var retired: [UInt64] = []
        var failure: StorageError?
        for retirement in retirements {
            do {
                try dedupFile.append(retirement.entries.filter { $0.millis >= notBefore })
                try Syscall.unlink(retirement.path)
                try Syscall.syncDirectory(journal.directory)
                retired.append(retirement.segment)
            } catch {
                failure =
                    StorageError(converting: error) ?? StorageError(.unavailable, call: "retire", detail: "\(error)")
                break
            }
        }
        if failure == nil && dedupFile.entryCount > 2 * options.dedupCapacity {
            do {
                try dedupFile.compact(notBefore: notBefore, keepingAtMost: options.dedupCapacity)
            } catch {
                failure =
                    StorageError(converting: error) ?? StorageError(.unavailable, call: "compact", detail: "\(error)")
            }
        }
        queue.async { [retired, failure] in self.finishRetirement(retired, failure: failure) }
    }

    /// Takes back the result of ``retire(_:notBefore:)`` and retires segments completed meanwhile; on `queue`.
    private func finishRetirement(_ retired: [UInt64], failure: StorageError?) {
        retiring = false
        for segment in retired {
            journal.forgetSegment(segment)
            segmentKeys[segment] = nil
            logger.debug("deleted delivered journal segment", metadata: ["segment": "\(segment)"])
        }
        if let failure {
            // Tried again with the next delivered marks.
            errorCounter.increment()
            logger.error("could not delete a delivered journal segment", metadata: ["error": "\(failure)"])
            return
        }
        retireCompletedSegments()
    }
}
