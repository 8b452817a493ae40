import Dispatch
import EventStore
import Logging
import Metrics
import POSIX

/// Settles the events still owed to a sink that is no longer configured: each becomes a dead letter of that sink
/// (last error `sink_removed`, message "sink removed") and is then marked delivered, so its journal segment can be
/// retired instead of pinning the journal forever. The operator can re-deliver them with
/// `vipps-webhookd dead-letters` once the sink is back. A dead letter that cannot be written is given back and
/// tried again later.
final class RemovedSinkWorker: SinkWorker, @unchecked Sendable {
    let name: String
    private let deadLetters: DeadLetterStore
    private let store: EventStore
    private let metrics: any DeliveryMetrics
    private let logger: Logger
    /// Bounds the lines of marks tried again while the journal refuses them (a full disk).
    private let markRetryLog: RateLimitedLog
    private let queue: DispatchQueue
    private let limit = 256
    /// Marks not recorded yet (`drain` waits for them).
    private let marking = DispatchGroup()

    // Guarded by `queue`.
    private var draining = false
    private var failing = false

    init(name: String, deadLetters: DeadLetterStore, store: EventStore, metrics: any DeliveryMetrics, logger: Logger) {
        self.name = name
        self.deadLetters = deadLetters
        self.store = store
        self.metrics = metrics
        self.logger = logger
        markRetryLog = RateLimitedLog(logger: logger)
        queue = DispatchQueue(label: "vipps-webhookd.removed-sink.\(name)")
    }

    func deliver(_ event: DeliverableEvent) {
        refeed([event])
    }

    func refeed(_ events: [DeliverableEvent]) {
        queue.async { [self] in
            var settled: [DeliverableEvent] = []
            for (index, event) in events.enumerated() {
                guard !draining, write(event) else {
                    store.giveBack(events[index...].map(\.sequence), sink: name)
                    break
                }
                settled.append(event)
            }
            guard !settled.isEmpty else { return }
            metrics.deliveries(sink: name, outcome: "sink_removed", count: settled.count)
            logger.warning(
                "events owed to a removed sink were moved to the dead letters",
                metadata: [
                    "sink": "\(name)", "events": .stringConvertible(settled.count),
                    "first_id": "\(settled[0].id)",
                ]
            )
            marking.enter()
            store.markDurably(
                settled.map { ($0.sequence, name, nil) },
                sink: name,
                metrics: metrics,
                retryLog: markRetryLog
            ) { [marking] _ in marking.leave() }
        }
    }

    /// A page at a time: evaluated on `queue`, so the pages handed before are settled already.
    var room: Int { queue.sync { draining || failing ? 0 : limit } }

    func caughtUp() {}

    func reopen() {}

    func abandon() {}

    func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            draining = true
            marking.notify(queue: .global(), execute: completion)
        }
    }

    /// Writes the dead letter of `event`; false (logged, counted, and re-tried after 5 s) when it cannot.
    private func write(_ event: DeliverableEvent) -> Bool {
        let now = currentEpochMilliseconds()
        let letter = DeadLetter(
            event: event.stored,
            sink: name,
            attempts: 0,
            lastError: ExecSinkFailure(kind: .sinkRemoved, message: "sink removed"),
            firstAttemptAtMillis: now,
            deadLetteredAtMillis: now,
            line: String(decoding: event.line, as: UTF8.self)
        )
        do {
            try deadLetters.write(letter)
            Counter(label: "vipps_webhookd_dead_letters_total", dimensions: [("sink", name)]).increment()
            deadLetters.recordWaitingSoon(sinks: [name], logger: logger)
            return true
        } catch {
            metrics.storageError(operation: "dead_letter")
            logger.critical(
                "cannot write the dead letter of an event owed to a removed sink; it stays in the journal",
                metadata: ["sink": "\(name)", "id": "\(event.id)", "error": "\(error)"]
            )
            failing = true
            queue.asyncAfter(deadline: .now() + 5) { [self] in failing = false }
            return false
        }
    }
}
