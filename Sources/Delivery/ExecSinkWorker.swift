import Dispatch
import EventStore
import Logging
import VippsWebhooks

/// Feeds events to an `ExecDispatcher` (hooks with per-payment ordering, retries and dead letters) and marks them
/// delivered once they are done (run successfully, or dead-lettered).
///
/// The dispatcher's queue holds at most its capacity (`queue_capacity`) of events, and at most `memoryBytes` of them
/// with their decodes (``DeliverableEvent/heldBytes``; at least one event), so a slow hook behind events with large
/// bodies does not hold gigabytes. When it is full, events wait in an in-memory overflow in arrival order (so per-payment order
/// holds); past the memory bound (events or bytes, ``HeldMemory``) arrivals are given back to the journal, and so are
/// all later arrivals until the journal re-feed has caught up, so that they reach the hook in arrival order. An event
/// whose delivery ended
/// undone (`.pending`) is given back too. All state lives on the worker's serial queue, so the caller (the event
/// store's queue, on the request path) only enqueues. The overflow keeps the stored events without their decode (a
/// JSON tree is several times the body; up to the bound of them wait behind a slow hook) and decodes each again
/// when it leaves: the one place an event's body is parsed twice, and only when the hooks fall behind.
final class ExecSinkWorker: SinkWorker, @unchecked Sendable {
    let name: String
    let dispatcher: ExecDispatcher
    /// The sink's configuration, to tell on reload whether it changed.
    let configuration: ExecSinkConfiguration
    private let store: EventStore
    private let metrics: any DeliveryMetrics
    private let logger: Logger
    /// Bounds the lines of marks tried again while the journal refuses them (a full disk).
    private let markRetryLog: RateLimitedLog
    /// Bounds what `overflow` holds.
    private var held: HeldMemory
    private let queue: DispatchQueue
    /// Finished hooks whose outcome is not recorded yet (delivered mark not durable); `drain` waits for them, or the
    /// daemon could exit before the mark and run the hook again after the restart.
    private let recording = DispatchGroup()

    /// Most bytes of events (with their decodes) in the dispatcher's queue.
    private let queuedBytesLimit: Int

    // Guarded by `queue`.
    /// Bytes of the events in the dispatcher's queue (admitted and not finished).
    private var queuedBytes = 0
    private var overflow: [StoredEvent] = []
    private var spilled = false
    private var draining = false
    private var timer: (any DispatchSourceTimer)?

    init(
        configuration: ExecSinkConfiguration,
        dispatcher: ExecDispatcher,
        store: EventStore,
        metrics: any DeliveryMetrics,
        logger: Logger,
        memoryLimit: Int = 100_000,
        memoryBytes: Int = 64 << 20
    ) {
        self.name = configuration.name
        self.configuration = configuration
        self.dispatcher = dispatcher
        self.store = store
        self.metrics = metrics
        self.logger = logger
        markRetryLog = RateLimitedLog(logger: logger)
        held = HeldMemory(maximumEvents: memoryLimit, maximumBytes: memoryBytes)
        queuedBytesLimit = memoryBytes
        queue = DispatchQueue(label: "vipps-webhookd.exec-sink.\(configuration.name)")
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer.setEventHandler { [weak self] in self?.drainOverflow() }
        timer.resume()
        self.timer = timer
    }

    deinit {
        timer?.cancel()
    }

    func deliver(_ event: DeliverableEvent) {
        queue.async { [self] in
            guard !spilled, !draining, held.hasRoom else {
                if !spilled && !draining {
                    logger.error(
                        "hook queue and overflow full; further events wait in the journal",
                        metadata: held.metadata(sink: name)
                    )
                }
                metrics.delivery(sink: name, outcome: "spilled")
                giveBack([event])
                return
            }
            enqueue(event)
        }
    }

    func refeed(_ events: [DeliverableEvent]) {
        queue.async { [self] in
            guard !draining else { return giveBack(events) }
            for event in events {
                if dispatcher.holdsDeadLetter(of: event.stored) {
                    settledAsDeadLetter(event)
                } else if !store.isPending(sequence: event.sequence, sink: name) {
                    // Recorded since the re-feed claimed it (its mark ended the hand-out): a dead-letter retry ran
                    // its hook, marked it, then removed the letter, before `holdsDeadLetter` looked.
                    logger.notice(
                        "event fed again from the journal was recorded meanwhile (a dead-letter retry); not run again",
                        metadata: ["sink": "\(name)", "id": "\(event.id)"]
                    )
                } else {
                    enqueue(event)
                }
            }
        }
    }

    /// Records as delivered an event fed again from the journal that is already a dead letter of this sink: its
    /// letter was written, but its delivered mark was lost (a crash, a journal closed at shutdown). Running its hook
    /// again would leave it both delivered and a dead letter, whose retry runs the hook once more (on `queue`).
    private func settledAsDeadLetter(_ event: DeliverableEvent) {
        logger.notice(
            "event already a dead letter of this sink, its delivered mark lost; recorded, not run again",
            metadata: ["sink": "\(name)", "id": "\(event.id)"]
        )
        recording.enter()
        markDelivered(event)
    }

    var room: Int { queue.sync { draining ? 0 : held.room } }

    func caughtUp() {
        queue.async { [self] in spilled = false }
    }

    /// Submits `event` behind everything already queued (on `queue`).
    private func enqueue(_ event: DeliverableEvent) {
        if overflow.isEmpty, submit(event) { return }
        overflow.append(event.stored)
        held.add(bytes: event.stored.heldBytes)
        metrics.recordOverflow(sink: name, count: overflow.count)
    }

    /// Hands events back to the journal; arrivals go there too until the re-feed has caught up (on `queue`).
    private func giveBack(_ events: [DeliverableEvent]) {
        giveBack(sequences: events.map(\.sequence))
    }

    /// Hands the events at `sequences` back to the journal (on `queue`).
    private func giveBack(sequences: [UInt64]) {
        if !draining { spilled = true }
        store.giveBack(sequences, sink: name)
    }

    func reopen() {}

    func abandon() {
        dispatcher.killRunning()
    }

    func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        queue.sync {
            draining = true
            giveBack(sequences: overflow.map(\.sequence))
            overflow.removeAll()
            held.removeAll()
            metrics.recordOverflow(sink: name, count: 0)
            timer?.cancel()
        }
        dispatcher.drain(deadline: deadline) { [self] killed in
            if killed > 0 {
                logger.warning(
                    "hooks still running at the shutdown deadline were killed; their events stay pending",
                    metadata: ["sink": "\(name)", "killed": "\(killed)"]
                )
            }
            recording.notify(queue: .global(), execute: completion)
        }
    }

    private func drainOverflow() {
        guard !draining, !overflow.isEmpty else { return }
        var taken = 0
        for event in overflow {
            guard submit(DeliverableEvent(decoding: event)) else { break }
            taken += 1
        }
        held.remove(bytes: overflow.prefix(taken).reduce(0) { $0 + $1.heldBytes }, events: taken)
        overflow.removeFirst(taken)
        metrics.recordOverflow(sink: name, count: overflow.count)
    }

    /// Submits to the dispatcher; false when its queue is full (by count, or by bytes). Call on `queue`.
    private func submit(_ event: DeliverableEvent) -> Bool {
        let bytes = event.heldBytes
        guard queuedBytes == 0 || queuedBytes + bytes <= queuedBytesLimit else { return false }
        let context = ExecSinkContext(event)
        let result = dispatcher.submit(event.stored, context: context, orderingKey: event.decoded.orderingKey) {
            [self] outcome in
            // Entered before the dispatcher counts the run as done, so `drain` cannot complete ahead of the record.
            recording.enter()
            queue.async { self.finished(event, outcome) }
        }
        guard result == .accepted else { return false }
        queuedBytes += bytes
        return true
    }

    private func finished(_ event: DeliverableEvent, _ outcome: ExecDeliveryOutcome) {
        queuedBytes -= event.heldBytes
        defer { drainOverflow() }  // A slot of the hook queue is free again.
        switch outcome {
        case .delivered:
            metrics.delivery(sink: name, outcome: "ok")
            markDelivered(event)
        case .deadLettered(let attempts, let lastError, let file):
            metrics.delivery(sink: name, outcome: "dead_letter")
            logger.error(
                "hook gave up; event moved to the dead letters",
                metadata: [
                    "sink": "\(name)", "id": "\(event.id)", "attempts": .stringConvertible(attempts),
                    "last_error": "\(lastError.message)", "dead_letter": "\(file)",
                ]
            )
            markDelivered(event)
        case .pending(_, let reason):
            defer { recording.leave() }
            metrics.delivery(sink: name, outcome: "pending")
            if !draining {
                logger.error(
                    "hook delivery left pending; it will be fed again from the journal",
                    metadata: ["sink": "\(name)", "id": "\(event.id)", "reason": "\(reason)"]
                )
            }
            giveBack([event])
        }
    }

    private func markDelivered(_ event: DeliverableEvent) {
        let mark = [(event.sequence, name, Optional<SinkPosition>.none)]
        store.markDurably(mark, sink: name, metrics: metrics, retryLog: markRetryLog) { [recording] _ in
            recording.leave()
        }
    }
}
