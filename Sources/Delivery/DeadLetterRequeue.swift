import Dispatch
import EventStore
import Logging
import Metrics
import Synchronization

/// Retries the dead letters an operator asked for with `vipps-webhookd dead-letters retry`: every `interval` it
/// looks for requeue markers (see `RequeueMarkers`), hands each dead letter to the exec sink it failed on (through
/// `ExecDispatcher.retryDeadLetter`, which removes the dead-letter file once the hook succeeds) and removes the
/// marker once the retry is queued.
///
/// - A marker whose dead letter is gone (delivered by an earlier retry) is removed.
/// - A retry cut short (the hook killed by a shutdown's or a reload's drain) is marked again, so the next scan or
///   start runs it; the dead letter stays meanwhile.
/// - A marker whose sink is not configured as an exec sink, or whose dead letter cannot be read, stays (it is
///   logged once): it is retried when a reload brings the sink back, or until the operator removes it.
/// - A full hook queue leaves the marker for the next scan, and so does a reload whose replaced worker of the sink
///   is still draining (a retry beside its hooks could run two events of one payment at once).
/// - After a successful retry the event is marked delivered for the sink only if the journal still has it pending
///   (normally it was marked when it was dead-lettered). When that mark cannot be made, the letter stays with a
///   `HookRanMarkers` marker; its next retry records the delivery and removes it without running the hook again.
///
/// Each outcome is logged and counted in `vipps_webhookd_dead_letter_requeues_total{sink,result}`, `result` one of
/// `queued`, `delivered`, `already_delivered`, `failed`, `interrupted`, `not_found`, `unreadable`, `unknown_sink`.
public final class DeadLetterRequeue: @unchecked Sendable {
    private let deadLetters: DeadLetterStore
    private let markers: RequeueMarkers
    private let hookRan: HookRanMarkers
    private let dispatcher: DeliveryDispatcher
    private let store: EventStore
    private let logger: Logger
    private let queue = DispatchQueue(label: "vipps-webhookd.dead-letter-requeue")

    // Touched only on `queue`.
    private var timer: (any DispatchSourceTimer)?
    /// Dead letters handed to a hook queue and not finished: a new marker for one of them is dropped, never run twice.
    private var inFlight: Set<String> = []
    /// Retries cut short whose marker their completion made again, before `queue` has taken them out of `inFlight`:
    /// a scan meanwhile leaves those markers alone (the retry is over; the marker is for the next one). Written by
    /// the completions on the dispatcher's threads, hence the lock.
    private let markedAgain = Mutex<Set<String>>([])
    /// Retries delivered whose delivery could not be recorded (the journal closed, broken by an I/O error, or its
    /// record unreadable): their letter stays.
    private let unrecorded = Mutex<Set<String>>([])
    /// Tries again every second to record the deliveries of retries while the journal refuses writes.
    private let markRetryLog: RateLimitedLog
    /// Markers whose problem was already logged (cleared when the marker goes away).
    private var reported: Set<String> = []
    private var scanFailureReported = false

    /// A requeuer over the dead letters of `deadLetters`, feeding the exec sinks `dispatcher` has at each scan.
    public init(deadLetters: DeadLetterStore, dispatcher: DeliveryDispatcher, store: EventStore, logger: Logger) {
        self.deadLetters = deadLetters
        self.markers = RequeueMarkers(deadLetters: deadLetters)
        self.hookRan = HookRanMarkers(deadLetters: deadLetters)
        self.dispatcher = dispatcher
        self.store = store
        self.logger = logger
        self.markRetryLog = RateLimitedLog(logger: logger)
    }

    deinit {
        timer?.cancel()
    }

    /// Creates the marker folders (requeue/ and hook-ran/) and scans requeue/ every `interval` (the first scan right
    /// away).
    public func start(interval: DispatchTimeInterval = .seconds(1)) {
        do {
            try markers.createDirectory()
        } catch {
            logger.error("cannot create the dead-letter requeue folder", metadata: ["error": "\(error)"])
        }
        do {
            try hookRan.createDirectory()
        } catch {
            logger.error("cannot create the folder of dead letters whose hook has run", metadata: ["error": "\(error)"])
        }
        queue.async { [self] in
            guard timer == nil else { return }
            let source = DispatchSource.makeTimerSource(queue: queue)
            source.schedule(deadline: .now(), repeating: interval, leeway: .milliseconds(100))
            source.setEventHandler { [weak self] in self?.scan() }
            source.resume()
            timer = source
        }
    }

    /// One pass over the markers (on `queue`).
    private func scan() {
        let names: [String]
        do {
            names = try markers.names()
            scanFailureReported = false
        } catch {
            if !scanFailureReported {
                logger.error("cannot read the dead-letter requeue folder", metadata: ["error": "\(error)"])
                scanFailureReported = true
            }
            return
        }
        reported.formIntersection(names)
        for name in names { requeue(name) }
    }

    private func requeue(_ name: String) {
        guard !inFlight.contains(name) else {
            // A retry cut short has marked itself again and is about to leave `inFlight`: the next scan runs it.
            if markedAgain.withLock({ $0.contains(name) }) { return }
            logger.notice("dead letter is being retried already; marker dropped", metadata: ["dead_letter": "\(name)"])
            removeMarker(name)
            return
        }
        let letter: DeadLetter
        do {
            letter = try deadLetters.load(name)
        } catch .notFound {
            logger.warning(
                "no such dead letter (delivered by an earlier retry?); marker removed",
                metadata: ["dead_letter": "\(name)"]
            )
            count(sink: "-", result: "not_found")
            removeMarker(name)
            try? hookRan.remove(name)  // Its letter removed by hand, as the kept letter's error line allowed.
            return
        } catch {
            reportOnce(
                name,
                sink: "-",
                result: "unreadable",
                "cannot read dead letter; its retry marker stays",
                ["error": "\(error)"]
            )
            return
        }
        if hookRan.contains(name) { return settleWithoutRunning(name, letter: letter) }
        guard dispatcher.current[letter.sink] is ExecSinkWorker else {
            reportOnce(
                name,
                sink: letter.sink,
                result: "unknown_sink",
                "dead letter's sink is not a configured exec sink; its retry marker stays until it is",
                [:]
            )
            return
        }
        // After a reload, not before the replaced worker has drained: its hooks may run the same payment's events.
        guard let worker = dispatcher.settledWorker(of: letter.sink) as? ExecSinkWorker else { return }
        inFlight.insert(name)
        let result: KeyedSerialQueue.SubmitResult
        do {
            result = try worker.dispatcher.retryDeadLetter(
                named: name,
                whenDelivered: { [self] letter, recorded in deliveryRan(name, letter: letter, recorded: recorded) },
                completion: { [self] outcome in
                    // Marked again at once, not on `queue`: an interrupted retry is a shutdown's, which may exit next.
                    let marked: Bool
                    if case .pending = outcome {
                        markedAgain.withLock { _ = $0.insert(name) }
                        marked = markAgain(name)
                    } else {
                        marked = false
                    }
                    queue.async { self.finished(name, letter: letter, outcome: outcome, markedAgain: marked) }
                }
            )
        } catch {
            inFlight.remove(name)
            reportOnce(
                name,
                sink: letter.sink,
                result: "unreadable",
                "cannot read dead letter; its retry marker stays",
                ["error": "\(error)"]
            )
            return
        }
        switch result {
        case .accepted:
            removeMarker(name)
            count(sink: letter.sink, result: "queued")
            logger.notice(
                "dead letter queued for another delivery",
                metadata: ["dead_letter": "\(name)", "sink": "\(letter.sink)", "id": "\(letter.event.id)"]
            )
        case .full, .draining:
            // Stays marked; the next scan tries again (or the next start, after a shutdown).
            inFlight.remove(name)
        }
    }

    /// Asks again for the retry of `name`, cut short by a shutdown or a reload's drain, so that the next scan (or start)
    /// runs it; whether the marker is there.
    private func markAgain(_ name: String) -> Bool {
        do {
            try markers.create(name)
            return true
        } catch {
            logger.error(
                "cannot mark dead letter for retry again",
                metadata: ["dead_letter": "\(name)", "error": "\(error)"]
            )
            return false
        }
    }

    /// A retry's hook succeeded: records its delivery (``recordDelivery(of:done:)``), then lets the dispatcher
    /// remove the letter, or keep it. Until then a shutdown's drain waits for it, and past its bound tells the letter
    /// kept at once (the journal still refuses the mark; the restart settles the event): the daemon exits right
    /// after, and a kept letter nothing reported would be retried as any other, running its hook a second time.
    private func deliveryRan(_ name: String, letter: DeadLetter, recorded: @escaping @Sendable (Bool) -> Void) {
        let owed = dispatcher.oweRetryOutcome { [self] in reportKept(name, letter: letter) }
        recordDelivery(of: letter) { [self] done in
            // Off the journal's queue, which calls this once the mark is durable: the letter's removal syncs a
            // directory, and the outcome's callers may ask the store.
            DispatchQueue.global().async { [self] in
                owed.tell {
                    if !done {
                        // Told at once, not on `queue`: a journal closed first is a shutdown's, which may exit next.
                        unrecorded.withLock { _ = $0.insert(name) }
                        reportKept(name, letter: letter)
                    }
                    recorded(done)
                }
            }
        }
    }

    /// Reports a retry whose hook ran while its delivery could not be recorded (the journal refuses writes until the
    /// restart, or its record is unreadable): its letter stays, marked as run (``HookRanMarkers``).
    private func reportKept(_ name: String, letter: DeadLetter) {
        count(sink: letter.sink, result: "delivered")
        var metadata: Logger.Metadata = [
            "dead_letter": "\(name)", "sink": "\(letter.sink)", "id": "\(letter.event.id)",
        ]
        do {
            try hookRan.create(name)
        } catch {
            metadata["hook_ran_marker_error"] = "\(error)"
        }
        logger.error(
            "dead letter delivered, but its delivery could not be recorded in the journal; its file stays so that the restart settles the event without running the hook again, marked as run: retrying it removes it without running the hook (without the mark, remove the file after the restart)",
            metadata: metadata
        )
    }

    /// Retries the dead letter `name` whose hook a retry already ran (``HookRanMarkers``): records the delivery if
    /// the journal still owes it, then removes the letter and its marks; the hook is never run again (on `queue`).
    /// A shutdown's drain waits for the mark as for a running retry's, and past its bound marks the retry again (at
    /// once: the daemon exits next), so that the next start settles the letter, as an interrupted retry's.
    private func settleWithoutRunning(_ name: String, letter: DeadLetter) {
        inFlight.insert(name)
        removeMarker(name)
        let metadata: Logger.Metadata = [
            "dead_letter": "\(name)", "sink": "\(letter.sink)", "id": "\(letter.event.id)",
        ]
        let owed = dispatcher.oweRetryOutcome { [self] in
            markedAgain.withLock { _ = $0.insert(name) }
            let marked = markAgain(name)
            count(sink: letter.sink, result: "interrupted")
            logger.warning(
                marked
                    ? "dead letter retry interrupted before its delivery was recorded (its hook has run); marked to be retried again"
                    : "dead letter retry interrupted before its delivery was recorded (its hook has run); retry it again",
                metadata: metadata
            )
        }
        recordDelivery(of: letter) { [self] recorded in
            // Not told when a shutdown gave it up first (it marked the retry again).
            queue.async { [self] in
                owed.tell { settled(name, letter: letter, recorded: recorded, metadata: metadata) }
            }
        }
    }

    /// Ends ``settleWithoutRunning(_:letter:)`` once the journal has answered its mark (on `queue`).
    private func settled(_ name: String, letter: DeadLetter, recorded: Bool, metadata: Logger.Metadata) {
        inFlight.remove(name)
        guard recorded else {
            count(sink: letter.sink, result: "failed")
            logger.error(
                "dead letter's hook has run, but its delivery still cannot be recorded; it stays (retry it again later)",
                metadata: metadata
            )
            return
        }
        do {
            try deadLetters.remove(name)
            deadLetters.recordWaitingSoon(sinks: [letter.sink], logger: logger)
            try hookRan.remove(name)
        } catch {
            logger.error(
                "cannot remove a dead letter whose hook has run",
                metadata: metadata.merging(["error": "\(error)"]) { $1 }
            )
            return
        }
        count(sink: letter.sink, result: "already_delivered")
        logger.notice(
            "dead letter whose hook had already run removed without running it again",
            metadata: metadata
        )
    }

    private func finished(_ name: String, letter: DeadLetter, outcome: ExecDeliveryOutcome, markedAgain: Bool) {
        inFlight.remove(name)
        self.markedAgain.withLock { _ = $0.remove(name) }
        let letterKept = unrecorded.withLock { $0.remove(name) != nil }
        let metadata: Logger.Metadata = [
            "dead_letter": "\(name)", "sink": "\(letter.sink)", "id": "\(letter.event.id)",
        ]
        switch outcome {
        case .delivered(let attempts):
            guard !letterKept else { return }  // Reported when the journal refused it (`reportKept`).
            count(sink: letter.sink, result: "delivered")
            logger.notice(
                "dead letter delivered; its file is removed",
                metadata: metadata.merging(["attempts": .stringConvertible(attempts)]) { $1 }
            )
        case .deadLettered(let attempts, let lastError, _):
            count(sink: letter.sink, result: "failed")
            logger.error(
                "retried dead letter failed again; its file is replaced",
                metadata: metadata.merging([
                    "attempts": .stringConvertible(attempts),
                    "last_error": "\(lastError.message)",
                ]) { $1 }
            )
        case .pending(_, let reason):
            count(sink: letter.sink, result: "interrupted")
            logger.warning(
                markedAgain
                    ? "dead letter retry interrupted; it stays a dead letter, marked to be retried again"
                    : "dead letter retry interrupted; it stays a dead letter (retry it again)",
                metadata: metadata.merging(["reason": "\(reason)"]) { $1 }
            )
        }
    }

    /// Marks the event delivered for its sink if the journal still has it pending (its mark after the dead-lettering
    /// was lost), then calls `done`: true once that mark is durable (the dead letter's file may go), false when the
    /// journal refuses writes until its restart or cannot read the record (the letter then stays and lets the re-feed
    /// after the restart settle the event without running its hook again). While the journal refuses writes (a full
    /// disk), the mark is tried again every second and the letter stays meanwhile. Never marks another event with the same sequence (after a journal set aside),
    /// which would then be lost for the sink without its hook having run. Called before the file is removed.
    private func recordDelivery(of letter: DeadLetter, done: @escaping @Sendable (Bool) -> Void) {
        let event = letter.event
        let pending: Bool
        do {
            pending = try store.isPending(event, sink: letter.sink)
        } catch {
            // Whether the journal still owes the event to the sink is unknown: without the letter, a re-feed that
            // reads the record later would run the hook again.
            dispatcher.metrics.storageError(operation: "read_pending")
            logger.error(
                "cannot tell whether the event is still pending for the sink; its dead letter stays",
                metadata: ["sink": "\(letter.sink)", "id": "\(event.id)", "error": "\(error)"]
            )
            return done(false)
        }
        guard pending else {
            logger.debug(
                "event was recorded as delivered when it was dead-lettered",
                metadata: ["sink": "\(letter.sink)", "id": "\(event.id)"]
            )
            return done(true)
        }
        logger.notice(
            "event was still pending for the sink; recording the delivery",
            metadata: ["sink": "\(letter.sink)", "id": "\(event.id)"]
        )
        store.markDurably(
            [(event.sequence, letter.sink, nil)],
            sink: letter.sink,
            metrics: dispatcher.metrics,
            retryLog: markRetryLog,
            // Not "they happen again after the restart": the restart settles the event, its hook having run.
            refused: "cannot record a retried dead letter's delivery, the journal refuses writes until the restart",
            done: done
        )
    }

    private func removeMarker(_ name: String) {
        do {
            try markers.remove(name)
        } catch {
            logger.error(
                "cannot remove dead-letter retry marker",
                metadata: [
                    "dead_letter": "\(name)",
                    "error": "\(error)",
                ]
            )
        }
    }

    private func reportOnce(
        _ name: String,
        sink: String,
        result: String,
        _ message: Logger.Message,
        _ extra: Logger.Metadata
    ) {
        guard reported.insert(name).inserted else { return }
        count(sink: sink, result: result)
        logger.error(message, metadata: extra.merging(["dead_letter": "\(name)", "sink": "\(sink)"]) { $1 })
    }

    private func count(sink: String, result: String) {
        Counter(label: "vipps_webhookd_dead_letter_requeues_total", dimensions: [("sink", sink), ("result", result)])
            .increment()
    }
}
