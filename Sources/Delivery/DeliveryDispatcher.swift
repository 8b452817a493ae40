import Dispatch
import EventStore
import Logging
import Metrics
import Synchronization
import VippsWebhooks

/// Hands stored events to the sink workers they are routed to, streams what waits in the journal to the workers fed
/// from it, and swaps the worker set on reload.
///
/// - Arrivals: each event is claimed in the store for its sinks (`EventStore.handOut`) and given to their workers,
///   with the decode the ingest path made of its body; a sink fed from the journal gets nothing this way.
/// - Journal re-feed (every 0.5 s and on each change, on its own queue): for each sink fed from the journal whose
///   worker has room, claims pages of waiting events in sequence order (at most 1,024 events / 8 MiB), reads their
///   bodies off the store's queue and decodes each once, until none waits; then the sink is back on arrivals. A new
///   worker (start-up, reload) starts this way, so a backlog is streamed, never read at once. Counted in
///   `vipps_webhookd_journal_refed_events_total{sink}`.
/// - Reload: a sink whose worker is replaced (changed settings) or removed is switched to the journal first, its
///   old worker drains (finishes what runs, gives back the rest), and only then is the new one fed. Events owed to a
///   sink no worker is configured for go to a ``RemovedSinkWorker`` (dead letters, reason `sink removed`).
public final class DeliveryDispatcher: @unchecked Sendable {
    private let store: EventStore
    private let deadLetters: DeadLetterStore
    /// Where delivery outcomes and storage errors are counted.
    let metrics: any DeliveryMetrics
    private let logger: Logger
    /// What the mutex guards.
    private struct Guarded {
        var workers: [String: any SinkWorker] = [:]
        /// Workers settling events of sinks that are not configured.
        var removed: [String: any SinkWorker] = [:]
        /// Replaced workers still draining, per sink: their sink is fed again only when none is left.
        var draining: [String: [ObjectIdentifier: any SinkWorker]] = [:]
        var stopped = false
        var refeedTimer: (any DispatchSourceTimer)?
    }

    private let guarded = Mutex(Guarded())
    private let refeedQueue = DispatchQueue(label: "vipps-webhookd.refeed")
    // Used only on `refeedQueue`.
    private var feed: JournalFeed?
    private var readFailureLogged = false
    private var retryScheduled = false
    /// Entered for each replaced worker until its drain completes.
    private let handovers = DispatchGroup()
    /// Dead-letter retries (``DeadLetterRequeue``) whose hook succeeded and whose outcome is not told yet (their
    /// delivered mark still tried); `drain` waits for them as for the workers' marks. Entered in `retriesTelling`
    /// each.
    private let owedOutcomes = Mutex<[ObjectIdentifier: OwedRetryOutcome]>([:])
    private let retriesTelling = DispatchGroup()

    /// Most events and body bytes of one re-feed page.
    static let pageEvents = 1024
    static let pageBytes = 8 << 20
    /// How long one re-feed pass may hand pages to one sink before it yields its queue.
    static let passBudget = DispatchTimeInterval.milliseconds(50)

    /// A dispatcher over `store`; events owed to a sink that is not configured become dead letters in `deadLetters`.
    public init(store: EventStore, deadLetters: DeadLetterStore, metrics: any DeliveryMetrics, logger: Logger) {
        self.store = store
        self.deadLetters = deadLetters
        self.metrics = metrics
        self.logger = logger
    }

    /// The worker of each configured sink.
    public var current: [String: any SinkWorker] {
        guarded.withLock { $0.workers }
    }

    /// The worker of `sink` when no replaced worker of it is still draining, else nil. Work handed to a sink outside
    /// the journal's feed (a dead letter's retry) waits for that, as the sink's waiting events do: the old worker's
    /// hooks may still run events of the same payment, which the new worker's queue does not see.
    public func settledWorker(of sink: String) -> (any SinkWorker)? {
        guarded.withLock { $0.draining[sink] == nil ? $0.workers[sink] : nil }
    }

    /// Installs the workers (at start and on reload, before the new routes are in use). Sinks whose worker is
    /// replaced or removed, and new ones the journal owes events, are switched to the journal before the swap, so
    /// nothing routed under the old set lands on a worker unseen; replaced and removed workers drain (a running hook
    /// may finish within its timeout) before their sink is fed again.
    public func install(_ newWorkers: [String: any SinkWorker]) {
        // On the re-feed's queue: a pass between the switch to the journal and the swap would still see the old
        // worker with nothing waiting (its events are out with it), put the sink back on arrivals, and let the next
        // arrival overtake the events the old worker is about to give back.
        let leaving = refeedQueue.sync { switchOver(to: newWorkers) }
        for worker in leaving {
            handovers.enter()
            logger.notice(
                "sink worker replaced; draining the old one before its sink is fed again",
                metadata: ["sink": "\(worker.name)"]
            )
            worker.drain(deadline: .now() + Self.replacedWorkerGrace(worker)) { [self] in
                guarded.withLock {
                    $0.draining[worker.name]?[ObjectIdentifier(worker)] = nil
                    if $0.draining[worker.name]?.isEmpty == true { $0.draining[worker.name] = nil }
                }
                handovers.leave()
                refeedQueue.async { self.refeed() }
            }
        }
        refeedQueue.async { self.refeed() }
    }

    /// Switches the sinks whose worker changes to the journal, swaps the worker set and registers the workers that
    /// leave as draining; returns them. On `refeedQueue`.
    private func switchOver(to newWorkers: [String: any SinkWorker]) -> [any SinkWorker] {
        let (old, settling) = guarded.withLock { ($0.workers, Set($0.removed.keys)) }
        var leaving: [any SinkWorker] = []
        let owed = store.owedPerSink
        for (name, worker) in newWorkers where old[name] !== worker {
            // A sink nothing is owed to and no worker had gets no arrival before the routes naming it are in use.
            if old[name] != nil || settling.contains(name) || owed[name] != nil { store.feedFromJournal(sink: name) }
        }
        for (name, worker) in old where newWorkers[name] !== worker {
            store.feedFromJournal(sink: name)
            leaving.append(worker)
        }
        for sink in owed.keys where newWorkers[sink] == nil { store.feedFromJournal(sink: sink) }
        return guarded.withLock { guarded in
            guarded.workers = newWorkers
            for name in newWorkers.keys {
                if let worker = guarded.removed.removeValue(forKey: name) { leaving.append(worker) }
            }
            for worker in leaving { guarded.draining[worker.name, default: [:]][ObjectIdentifier(worker)] = worker }
            if guarded.refeedTimer == nil {
                let timer = DispatchSource.makeTimerSource(queue: refeedQueue)
                timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
                timer.setEventHandler { [weak self] in self?.refeed() }
                timer.resume()
                guarded.refeedTimer = timer
            }
            return leaving
        }
    }

    /// How long a replaced worker may run what it holds: one hook run for exec sinks.
    private static func replacedWorkerGrace(_ worker: any SinkWorker) -> DispatchTimeInterval {
        guard let exec = worker as? ExecSinkWorker else { return .seconds(30) }
        return .nanoseconds(Int(exec.configuration.timeout.components.seconds) * 1_000_000_000 + 5_000_000_000)
    }

    /// Queues a just-stored event for each of its sinks (called on the store's queue by the accept completion), with
    /// the decode of its body made on the ingest path, so no sink parses the body again.
    public func deliver(_ event: StoredEvent, decoded: DecodedEvent, to sinks: [String]) {
        let current = self.current
        for sink in sinks where current[sink] == nil {
            // Routed under a table that had the sink; the re-feed settles it (a dead letter, `sink removed`).
            metrics.delivery(sink: sink, outcome: "unconfigured_sink")
            logger.error(
                "event routed to a sink that is not configured; it becomes a dead letter of the sink",
                metadata: ["sink": "\(sink)", "id": "\(event.id)"]
            )
            store.feedFromJournal(sink: sink)
        }
        let handedOut = store.handOut(sequence: event.sequence, sinks: sinks.filter { current[$0] != nil })
        guard !handedOut.isEmpty else { return }
        let deliverable = DeliverableEvent(event, decoded: decoded)
        for sink in handedOut {
            current[sink]!.deliver(deliverable)
        }
    }

    /// Reopens every file sink (logrotate).
    public func reopenFiles() {
        for worker in current.values { worker.reopen() }
    }

    /// Drains every worker (also replaced ones still draining) by `deadline`; what is not done stays pending in the
    /// journal. Dead-letter retries whose hook has run are waited for too, and told given up past the same bound.
    public func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        let (all, replaced) = guarded.withLock { guarded in
            guarded.stopped = true
            guarded.refeedTimer?.cancel()
            guarded.refeedTimer = nil
            return (
                Array(guarded.workers.values) + Array(guarded.removed.values),
                guarded.draining.values.flatMap(\.values)
            )
        }
        refeedQueue.sync {}  // A re-feed under way hands its page over first.
        let group = DispatchGroup()
        for worker in all {
            group.enter()
            worker.drain(deadline: deadline) { group.leave() }
        }
        DispatchQueue.global().async { [self] in
            // Hooks still running at the deadline are killed; what a worker then waits for is its delivered marks.
            // A journal that refuses them (disk full, dead end) must not hold the shutdown: after a short grace the
            // events stay pending, to be delivered again after the restart.
            if group.wait(timeout: deadline + .seconds(2)) == .timedOut {
                metrics.storageError(operation: "mark_at_shutdown")
                logger.error(
                    "sink workers still waiting for delivered marks after the shutdown deadline; their events stay pending and are delivered again after the restart"
                )
            }
            // Replaced workers drain since the reload: they get the same deadline, then what still runs is ended.
            if handovers.wait(timeout: deadline) == .timedOut {
                for worker in replaced { worker.abandon() }
                if handovers.wait(timeout: .now() + 2) == .timedOut {
                    logger.warning(
                        "replaced sink workers still busy after the shutdown deadline; their events stay pending"
                    )
                }
            }
            // Dead-letter retries whose hook has run while the journal still refuses their delivered marks: their
            // letters stay (the restart settles the events), told before the process exits.
            if retriesTelling.wait(timeout: deadline + .seconds(2)) == .timedOut {
                let owed = owedOutcomes.withLock { owed in
                    defer { owed = [:] }
                    return Array(owed.values)
                }
                if !owed.isEmpty { metrics.storageError(operation: "mark_at_shutdown") }
                for outcome in owed {
                    outcome.giveUpUnlessTold()
                    retriesTelling.leave()
                }
            }
            completion()
        }
    }

    /// Registers a dead-letter retry whose hook succeeded and whose outcome is on its way (its delivered mark tried
    /// while the journal refuses it): `drain` waits for it within the bound it gives the workers' marks, then calls
    /// `giveUp` unless the retry has told its outcome (``OwedRetryOutcome/tell(_:)``). `giveUp` must tell it at once:
    /// the daemon exits right after the drain.
    func oweRetryOutcome(giveUp: @escaping @Sendable () -> Void) -> OwedRetryOutcome {
        retriesTelling.enter()
        let outcome = OwedRetryOutcome(giveUp: giveUp) { [self] id in
            if owedOutcomes.withLock({ $0.removeValue(forKey: id) }) != nil { retriesTelling.leave() }
        }
        owedOutcomes.withLock { $0[ObjectIdentifier(outcome)] = outcome }
        return outcome
    }

    /// Whether `drain` has begun.
    private var isStopped: Bool {
        guarded.withLock { $0.stopped }
    }

    /// One pass of the journal re-feed (on `refeedQueue`). A pass hands each sink pages for at most
    /// ``passBudget`` and stops as soon as `drain` begins, so a reload or a shutdown (both wait for this queue) never
    /// waits for a whole backlog; what is left is taken by the next pass, scheduled at once.
    private func refeed() {
        guard !isStopped else { return }
        let fed = store.sinksFedFromJournal
        guard !fed.isEmpty else { return }
        let feed = self.feed ?? store.journalFeed()
        self.feed = feed
        var full = false
        var unfinished = false
        for sink in fed.sorted() {
            guard let worker = worker(feeding: sink) else { continue }
            var count = 0
            let passEnds = DispatchTime.now() + Self.passBudget
            do {
                while true {
                    guard !isStopped else { break }
                    guard DispatchTime.now() < passEnds else {
                        unfinished = true
                        break
                    }
                    let room = worker.room
                    guard room > 0 else {
                        full = true
                        break
                    }
                    let events = try feed.next(
                        sink: sink,
                        maxEvents: min(room, Self.pageEvents),
                        maxBytes: Self.pageBytes,
                        caughtUp: { worker.caughtUp() }
                    )
                    guard !events.isEmpty else { break }
                    // Read back from the journal: each body is decoded here, once for the sink.
                    worker.refeed(events.map(DeliverableEvent.init(decoding:)))
                    count += events.count
                }
                readFailureLogged = false
            } catch {
                metrics.storageError(operation: "read_pending")
                if !readFailureLogged {
                    logger.error(
                        "cannot read waiting events from the journal; trying again",
                        metadata: ["sink": "\(sink)", "error": "\(error)"]
                    )
                }
                readFailureLogged = true
            }
            if count > 0 {
                Counter(label: "vipps_webhookd_journal_refed_events_total", dimensions: [("sink", sink)])
                    .increment(by: count)
                logger.info(
                    "fed waiting events from the journal",
                    metadata: ["sink": "\(sink)", "events": .stringConvertible(count)]
                )
            }
        }
        feed.close()
        if unfinished && !isStopped {
            refeedQueue.async { self.refeed() }
        } else if full && !retryScheduled {
            // A worker is busy with what it was fed: look again soon rather than at the next tick.
            retryScheduled = true
            refeedQueue.asyncAfter(deadline: .now() + .milliseconds(20)) { [self] in
                retryScheduled = false
                refeed()
            }
        }
    }

    /// The worker that takes `sink`'s waiting events now: none while a replaced one drains; a `RemovedSinkWorker`
    /// for a sink that is not configured.
    private func worker(feeding sink: String) -> (any SinkWorker)? {
        guarded.withLock { guarded in
            guard guarded.draining[sink] == nil else { return nil }
            if let worker = guarded.workers[sink] ?? guarded.removed[sink] { return worker }
            logger.warning(
                "events are owed to a sink that is not configured; they become dead letters of it",
                metadata: ["sink": "\(sink)"]
            )
            let worker = RemovedSinkWorker(
                name: sink,
                deadLetters: deadLetters,
                store: store,
                metrics: metrics,
                logger: logger
            )
            guarded.removed[sink] = worker
            return worker
        }
    }
}
