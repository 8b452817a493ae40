import Delivery
import Dispatch
import Foundation
import Logging

/// Hands stored events to the sink workers they are routed to, re-feeds events a worker had to leave to the
/// journal, and swaps the worker set on reload.
final class DeliveryDispatcher: @unchecked Sendable {
    private let store: EventStore
    private let metrics: DaemonMetrics
    private let logger: Logger
    private let lock = NSLock()
    private var workers: [String: any SinkWorker] = [:]
    private var refeedTimer: (any DispatchSourceTimer)?
    private let refeedQueue = DispatchQueue(label: "vipps-webhookd.refeed")

    init(store: EventStore, metrics: DaemonMetrics, logger: Logger) {
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    /// The worker of each configured sink.
    var current: [String: any SinkWorker] {
        lock.lock()
        defer { lock.unlock() }
        return workers
    }

    /// Installs the workers (at start and on reload) and starts the periodic journal re-feed check.
    func install(_ newWorkers: [String: any SinkWorker]) {
        lock.lock()
        workers = newWorkers
        if refeedTimer == nil {
            let timer = DispatchSource.makeTimerSource(queue: refeedQueue)
            timer.schedule(deadline: .now() + 2, repeating: 2)
            timer.setEventHandler { [weak self] in self?.refeedSpilledWorkers() }
            timer.resume()
            refeedTimer = timer
        }
        lock.unlock()
    }

    /// Queues a just-stored event for each of its sinks.
    func deliver(_ event: StoredEvent, to sinks: [String]) {
        let current = self.current
        for sink in sinks {
            guard let worker = current[sink] else {
                metrics.delivery(sink: sink, outcome: "unconfigured_sink")
                logger.error("event routed to a sink that is not configured; it stays pending",
                             metadata: ["sink": "\(sink)", "id": "\(event.id)"])
                continue
            }
            worker.deliver(event)
        }
    }

    /// Queues events that were journaled but not delivered before the last stop.
    func recover(_ pending: [PendingDelivery]) {
        var missing: [String: Int] = [:]
        let current = self.current
        for delivery in pending {
            for sink in delivery.sinks {
                if let worker = current[sink] { worker.deliver(delivery.event) } else { missing[sink, default: 0] += 1 }
            }
        }
        for (sink, count) in missing {
            metrics.deliveries(sink: sink, outcome: "unconfigured_sink", count: count)
            logger.warning("pending events for a sink that is no longer configured; they stay in the journal",
                           metadata: ["sink": "\(sink)", "events": "\(count)"])
        }
    }

    /// Reopens every file sink (logrotate).
    func reopenFiles() {
        for worker in current.values { worker.reopen() }
    }

    /// Drains every worker by `deadline`; what is not done stays pending in the journal.
    func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        lock.lock()
        refeedTimer?.cancel()
        refeedTimer = nil
        let all = Array(workers.values)
        lock.unlock()
        let group = DispatchGroup()
        for worker in all {
            group.enter()
            worker.drain(deadline: deadline) { group.leave() }
        }
        group.notify(queue: .global(), execute: completion)
    }

    /// For each worker that left events to the journal and is idle now, reads its pending events back and feeds them.
    private func refeedSpilledWorkers() {
        let spilled = current.values.filter { $0.needsRefeed && $0.isIdle }
        guard !spilled.isEmpty else { return }
        let pending: [PendingDelivery]
        do {
            pending = try store.pendingDeliveries()
        } catch {
            metrics.storageError(operation: "read_pending")
            logger.error("cannot read pending deliveries from the journal", metadata: ["error": "\(error)"])
            return
        }
        for worker in spilled {
            worker.refeedStarted()
            var count = 0
            for delivery in pending where delivery.sinks.contains(worker.name) {
                worker.deliver(delivery.event)
                count += 1
            }
            logger.notice("re-fed pending events from the journal", metadata: ["sink": "\(worker.name)",
                                                                               "events": "\(count)"])
        }
    }
}
