import Delivery
import Dispatch
import Foundation
import Logging
import VippsWebhooks

/// Feeds events to an `ExecDispatcher` (hooks with per-payment ordering, retries and dead letters) and marks them
/// delivered once they are done (run successfully, or dead-lettered).
///
/// When the dispatcher's queue is full, events wait in an in-memory overflow in arrival order (so per-payment order
/// holds); past `memoryLimit` they are left to the journal and re-fed when the worker is idle.
final class ExecSinkWorker: SinkWorker, @unchecked Sendable {
    let name: String
    let dispatcher: ExecDispatcher
    /// The sink's configuration, to tell on reload whether it changed.
    let configuration: ExecSinkConfiguration
    private let store: EventStore
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let memoryLimit: Int
    private let lock = NSLock()
    /// Finished hooks whose outcome is not recorded yet (delivered mark not durable); `drain` waits for them, or the
    /// daemon could exit before the mark and run the hook again after the restart.
    private let recording = DispatchGroup()

    // Guarded by `lock`.
    private var overflow: [StoredEvent] = []
    private var spilled = false
    private var draining = false
    private var timer: (any DispatchSourceTimer)?

    init(configuration: ExecSinkConfiguration, dispatcher: ExecDispatcher, store: EventStore, metrics: DaemonMetrics,
         logger: Logger, memoryLimit: Int = 100_000) {
        self.name = configuration.name
        self.configuration = configuration
        self.dispatcher = dispatcher
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.memoryLimit = memoryLimit
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer.setEventHandler { [weak self] in self?.drainOverflow() }
        timer.resume()
        self.timer = timer
    }

    deinit {
        timer?.cancel()
    }

    func deliver(_ event: StoredEvent) {
        lock.lock()
        defer { lock.unlock() }
        guard !draining else { return }
        if overflow.isEmpty, submit(event) { return }
        guard overflow.count < memoryLimit else {
            if !spilled {
                logger.error("hook queue and overflow full; further events wait in the journal",
                             metadata: ["sink": "\(name)", "limit": "\(memoryLimit)"])
            }
            spilled = true
            return
        }
        overflow.append(event)
        metrics.recordOverflow(sink: name, count: overflow.count)
    }

    var isIdle: Bool {
        lock.lock()
        defer { lock.unlock() }
        return overflow.isEmpty && dispatcher.depth == 0
    }

    var needsRefeed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return spilled
    }

    func refeedStarted() {
        lock.lock()
        spilled = false
        lock.unlock()
    }

    func reopen() {}

    func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        lock.lock()
        draining = true
        overflow.removeAll()  // Still pending in the journal.
        timer?.cancel()
        lock.unlock()
        dispatcher.drain(deadline: deadline) { [self] killed in
            if killed > 0 {
                logger.warning("hooks still running at the shutdown deadline were killed; their events stay pending",
                               metadata: ["sink": "\(name)", "killed": "\(killed)"])
            }
            recording.notify(queue: .global(), execute: completion)
        }
    }

    private func drainOverflow() {
        lock.lock()
        defer { lock.unlock() }
        guard !draining, !overflow.isEmpty else { return }
        var taken = 0
        for event in overflow {
            guard submit(event) else { break }
            taken += 1
        }
        overflow.removeFirst(taken)
        metrics.recordOverflow(sink: name, count: overflow.count)
    }

    /// Submits to the dispatcher; false when its queue is full. Call with `lock` held.
    private func submit(_ event: StoredEvent) -> Bool {
        let decoded = DecodedEvent.decode(body: event.body)
        let variables = Dictionary(decoded.environment.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        let context = ExecSinkContext(fields: { decoded.topLevelText($0) }, variables: variables,
                                      line: EventLine.render(event))
        let result = dispatcher.submit(event, context: context, orderingKey: decoded.orderingKey) { [self] outcome in
            // Entered before the dispatcher counts the run as done, so `drain` cannot complete ahead of the record.
            recording.enter()
            // Off the caller's stack: `finished` takes `lock`, which `submit` may be holding.
            DispatchQueue.global().async { self.finished(event, outcome) }
        }
        return result == .accepted
    }

    private func finished(_ event: StoredEvent, _ outcome: ExecDeliveryOutcome) {
        switch outcome {
        case .delivered:
            metrics.delivery(sink: name, outcome: "ok")
            markDelivered(event)
        case .deadLettered(let attempts, let lastError, let file):
            metrics.delivery(sink: name, outcome: "dead_letter")
            logger.error("hook gave up; event moved to the dead letters",
                         metadata: ["sink": "\(name)", "id": "\(event.id)", "attempts": "\(attempts)",
                                    "last_error": "\(lastError.message)", "dead_letter": "\(file)"])
            markDelivered(event)
        case .pending(_, let reason):
            defer { recording.leave() }
            metrics.delivery(sink: name, outcome: "pending")
            lock.lock()
            let stopping = draining
            if !stopping { spilled = true }
            lock.unlock()
            if !stopping {
                logger.error("hook delivery left pending; it will be fed again from the journal",
                             metadata: ["sink": "\(name)", "id": "\(event.id)", "reason": "\(reason)"])
            }
        }
    }

    private func markDelivered(_ event: StoredEvent) {
        store.markDelivered(sequence: event.sequence, sink: name) { [self] error in
            defer { recording.leave() }
            guard let error else { return }
            metrics.storageError(operation: "mark_delivered")
            logger.error("cannot record delivery; the hook may run again after a restart",
                         metadata: ["sink": "\(name)", "id": "\(event.id)", "error": "\(error)"])
        }
    }
}
