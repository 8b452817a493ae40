import Dispatch
import EventStore
import Glibc
import Logging
import Metrics
import POSIX
import VippsWebhooks

/// Delivers events to one exec sink: runs its hook with retries and backoff, per-key ordering, a concurrency cap
/// and a bounded queue, and puts events that exhaust their attempts into the dead-letter folder.
///
/// One dispatcher per exec sink. `submit` never blocks: when the queue is full it answers `.full` and the caller
/// keeps the event in the journal to feed it again later.
public final class ExecDispatcher: Sendable {
    private let sink: ExecSink
    private let retryPolicy: RetryPolicy
    private let deadLetters: DeadLetterStore
    private let logger: Logger
    private let random: @Sendable () -> Double
    private let queue: KeyedSerialQueue
    private let runs = RunningHooks()

    /// Creates a dispatcher.
    /// - Parameters:
    ///   - sink: The exec sink (its configuration gives `concurrency`, `queueCapacity` and the sink name).
    ///   - retryPolicy: Backoff and attempts; use `RetryPolicy(maxAttempts: sink.configuration.maxAttempts)`.
    ///   - deadLetters: Where exhausted events go.
    ///   - logger: For dead-letter and shutdown lines.
    ///   - random: Uniform draws in `0 ..< 1` for the backoff jitter.
    public init(
        sink: ExecSink,
        retryPolicy: RetryPolicy,
        deadLetters: DeadLetterStore,
        logger: Logger,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.sink = sink
        self.retryPolicy = retryPolicy
        self.deadLetters = deadLetters
        self.logger = logger
        self.random = random
        let name = sink.configuration.name
        let depth = Gauge(label: "vipps_webhookd_sink_queue_depth", dimensions: [("sink", name)])
        self.queue = KeyedSerialQueue(
            concurrency: sink.configuration.concurrency,
            capacity: sink.configuration.queueCapacity,
            label: "vipps-webhookd.exec.\(name)",
            depthChanged: { depth.record($0) }
        )
    }

    /// Events admitted and not finished.
    public var depth: Int { queue.depth }

    /// Queues `event` for the hook.
    /// - Parameters:
    ///   - event: The event.
    ///   - context: Fields, variables and stdin line from the decoder.
    ///   - orderingKey: Events with the same key are delivered one at a time in submission order (e.g. the
    ///     payment reference); nil for none.
    ///   - completion: Called once with the outcome, if the event was accepted.
    /// - Returns: `.accepted`, or `.full` / `.draining` (then `completion` is never called).
    @discardableResult
    public func submit(
        _ event: StoredEvent,
        context: ExecSinkContext,
        orderingKey: String?,
        completion: @escaping @Sendable (ExecDeliveryOutcome) -> Void
    ) -> KeyedSerialQueue.SubmitResult {
        let firstAttemptAt = Self.nowMillis()
        let lastError = LastError()
        return queue.submit(
            key: orderingKey,
            run: { [self] attempt, finish in
                if let owed = lastError.deadLetterOwed {
                    // The hook gave up before; only its dead letter is still to be written. The job keeps its
                    // payment's ordering key meanwhile, so no later event of the payment overtakes it.
                    return settle(owed.attempts, owed.failure, retrying: owed.retries)
                }
                @Sendable func settle(_ attempts: Int, _ failure: ExecSinkFailure, retrying retries: Int) {
                    let letter = deadLetter(
                        event,
                        context: context,
                        attempts: attempts,
                        failure: failure,
                        since: firstAttemptAt
                    )
                    guard let letter else {
                        lastError.deadLetterOwed = (attempts, failure, retries + 1)
                        return finish(.retry(after: Self.deadLetterRetryDelay(afterFailures: retries + 1)))
                    }
                    lastError.deadLetterOwed = nil
                    completion(letter)
                    finish(.done)
                }
                runAttempt(event, context: context, attempt: attempt) { [self] failure in
                    guard let failure else {
                        completion(.delivered(attempts: attempt))
                        return finish(.done)
                    }
                    lastError.value = failure
                    if failure.kind == .killed {
                        // Killed by `drain`: not the hook's fault and never a dead letter; the queue, draining,
                        // turns this retry into `.pending`.
                        return finish(.retry(after: .zero))
                    }
                    if let delay = retryPolicy.delay(afterFailedAttempt: attempt, random: random()) {
                        return finish(.retry(after: delay))
                    }
                    settle(attempt, failure, retrying: 0)
                }
            },
            interrupted: { attempts in
                let owed = lastError.deadLetterOwed.map { "dead letter not written, last error: \($0.failure.message)" }
                let last = lastError.value.map { "last error: \($0.message)" }
                let reason = (owed ?? last).map { "shutdown; \($0)" } ?? "shutdown"
                completion(.pending(attempts: lastError.deadLetterOwed?.attempts ?? attempts, reason: reason))
            }
        )
    }

    /// Whether `event` is already a dead letter of this sink (see ``DeadLetterStore/holds(_:sink:)``).
    public func holdsDeadLetter(of event: StoredEvent) -> Bool {
        deadLetters.holds(event, sink: sink.configuration.name)
    }

    /// Re-queues the dead letter `name` (from `DeadLetterStore.list()`); its file is removed once the event is
    /// delivered, and replaced when it fails again. The event's body is decoded once, for the hook's input
    /// (``ExecSinkContext/init(_:)``) and its ordering key alike.
    /// - Parameters:
    ///   - name: The dead letter's file name (validated: no path traversal).
    ///   - whenDelivered: Called once the hook succeeded, before the file is removed, to record the delivery; calls
    ///     its argument once that is durable (true: the file may go) or cannot be (false: the file stays). An event
    ///     still pending in the journal is then never without both its letter and its mark, which would let a
    ///     journal re-feed run its hook again: a letter kept lets a re-feed after the restart settle the event
    ///     without running it. `completion` waits for it, and runs on the thread that calls that argument (never
    ///     call it on the store's queue: a completion that asks the store would wait for itself).
    ///   - completion: Called once with the outcome, if accepted.
    /// - Throws: `DeadLetterError` when the dead letter cannot be read.
    @discardableResult
    public func retryDeadLetter(
        named name: String,
        whenDelivered: @escaping @Sendable (DeadLetter, _ recorded: @escaping @Sendable (Bool) -> Void) -> Void = {
            $1(true)
        },
        completion: @escaping @Sendable (ExecDeliveryOutcome) -> Void
    ) throws(DeadLetterError) -> KeyedSerialQueue.SubmitResult {
        let letter = try deadLetters.load(name)
        let event = DeliverableEvent(decoding: letter.event)
        return submit(letter.event, context: ExecSinkContext(event), orderingKey: event.decoded.orderingKey) {
            [deadLetters, logger] outcome in
            switch outcome {
            case .delivered:
                whenDelivered(letter) { recorded in
                    if recorded {
                        Self.remove(
                            name,
                            of: letter.sink,
                            from: deadLetters,
                            logger: logger,
                            "cannot remove re-delivered dead letter"
                        )
                    }
                    completion(outcome)
                }
                return
            case .deadLettered(_, _, let replacement) where replacement != name:
                // Failed again and written under today's name (a letter of an earlier version, whose name was
                // built otherwise): the new file is durable, the old one goes, or a later retry would run both.
                Self.remove(
                    name,
                    of: letter.sink,
                    from: deadLetters,
                    logger: logger,
                    "cannot remove replaced dead letter"
                )
            default: break
            }
            completion(outcome)
        }
    }

    /// Graceful shutdown: no new attempt starts, queued events end `.pending` at once, running hooks may finish
    /// until `deadline`; hooks still running then are killed (their events end `.pending`, or `.delivered` for a
    /// hook that had exited 0 by itself before the kill reached it).
    /// - Parameters:
    ///   - deadline: When to stop waiting.
    ///   - completion: Called once with the number of hooks that were killed at the deadline, after the outcomes of
    ///     all accepted events (those of the killed hooks too, unless they take over 2 s more); a dead-letter retry
    ///     whose hook succeeded tells its outcome once `whenDelivered` is done, which may be later (the daemon's
    ///     `DeliveryDispatcher.drain` waits for it).
    public func drain(deadline: DispatchTime, completion: @escaping @Sendable (_ killed: Int) -> Void) {
        queue.drain(
            deadline: deadline,
            stop: { [runs, logger, sink] running in
                logger.warning(
                    "killing hooks still running at shutdown",
                    metadata: ["sink": .string(sink.configuration.name), "count": .stringConvertible(running)]
                )
                runs.killAll()
            },
            completion: completion
        )
    }

    /// Kills the hooks running now (their events end `.pending`); for a drain that must end before its deadline.
    public func killRunning() {
        runs.killAll()
    }

    private func runAttempt(
        _ event: StoredEvent,
        context: ExecSinkContext,
        attempt: Int,
        completion: @escaping @Sendable (ExecSinkFailure?) -> Void
    ) {
        let token = runs.reserve()
        let handle = sink.attempt(event, context: context, attempt: attempt) { [runs] failure in
            runs.release(token)
            completion(failure)
        }
        runs.register(handle, token: token)
    }

    /// Hook runs the dispatcher keeps track of (for tests of that bookkeeping).
    var trackedRuns: Int { runs.count }

    /// Removes dead letter `name` of `sink` (delivered, or replaced by a newer file), logging `failure` when it cannot.
    private static func remove(
        _ name: String,
        of sink: String,
        from deadLetters: DeadLetterStore,
        logger: Logger,
        _ failure: Logger.Message
    ) {
        do {
            try deadLetters.remove(name)
            deadLetters.recordWaitingSoon(sinks: [sink], logger: logger)
        } catch {
            logger.error(failure, metadata: ["name": .string(name), "error": "\(error)"])
        }
    }

    private func deadLetter(
        _ event: StoredEvent,
        context: ExecSinkContext,
        attempts: Int,
        failure: ExecSinkFailure,
        since firstAttemptAt: Int64
    ) -> ExecDeliveryOutcome? {
        let name = sink.configuration.name
        let letter = DeadLetter(
            event: event,
            sink: name,
            attempts: attempts,
            lastError: failure,
            firstAttemptAtMillis: firstAttemptAt,
            deadLetteredAtMillis: Self.nowMillis(),
            line: String(decoding: context.line, as: UTF8.self)
        )
        do {
            let file = try deadLetters.write(letter)
            Counter(label: "vipps_webhookd_dead_letters_total", dimensions: [("sink", name)]).increment()
            deadLetters.recordWaitingSoon(sinks: [name], logger: logger)
            logger.error(
                "event dead-lettered",
                metadata: [
                    "sink": .string(name), "event_id": .string(event.id), "attempts": .stringConvertible(attempts),
                    "error": .string(failure.message), "file": .string(file),
                ]
            )
            return .deadLettered(attempts: attempts, lastError: failure, name: file)
        } catch {
            Counter(label: "vipps_webhookd_dead_letter_write_errors_total", dimensions: [("sink", name)]).increment()
            // Also where the storage alert looks, as a removed sink's dead-letter write failure is counted.
            Counter(label: "vipps_webhookd_storage_errors_total", dimensions: [("operation", "dead_letter")])
                .increment()
            logger.critical(
                "cannot write dead letter; the event keeps its place and the write is tried again",
                metadata: ["sink": .string(name), "event_id": .string(event.id), "error": .string(error.description)]
            )
            return nil
        }
    }

    /// The wait before writing a dead letter again after `failures` failed writes: 1 s, doubling up to a minute.
    static func deadLetterRetryDelay(afterFailures failures: Int) -> Duration {
        .seconds(min(60, 1 << min(max(failures - 1, 0), 6)))
    }

    private static func nowMillis() -> Int64 {
        currentEpochMilliseconds()
    }
}

/// The last failure of one delivery; written and read only by its attempts, which never overlap and are ordered
/// by the queue's private serial queue.
private final class LastError: @unchecked Sendable {
    var value: ExecSinkFailure?
    /// Set when the hook gave up but its dead letter could not be written: attempts made, the last failure, and how
    /// many writes failed so far.
    var deadLetterOwed: (attempts: Int, failure: ExecSinkFailure, retries: Int)?
}
