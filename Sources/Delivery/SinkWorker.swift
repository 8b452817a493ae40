import Dispatch
import EventStore
import Logging

/// Delivers events to one named sink and marks them delivered in the store when done.
///
/// Every event a worker gets was claimed for it in the store (see `EventStore.handOut(sequence:sinks:)`), so no
/// event reaches it twice. An event it cannot hold or finish it gives back (`EventStore.giveBack(_:sink:)`): the
/// sink is then fed from the journal in sequence order, and the worker takes arrivals again only after
/// ``caughtUp()``.
public protocol SinkWorker: AnyObject, Sendable {
    /// The sink's configured name.
    var name: String { get }
    /// Takes an event claimed on the arrival path; never blocks the caller (the store's queue).
    func deliver(_ event: DeliverableEvent)
    /// Takes a page claimed from the journal (at most ``room`` events), oldest first.
    func refeed(_ events: [DeliverableEvent])
    /// How many more events it takes from the journal now. Evaluated on the worker's own queue, so every give-back
    /// it decided before is already on its way to the store.
    var room: Int { get }
    /// The journal holds nothing more for the sink (called on the store's queue): take arrivals again.
    func caughtUp()
    /// Reopens files after logrotate (SIGHUP).
    func reopen()
    /// Stops taking work, finishes or gives back what it holds by `deadline`, then calls `completion`.
    func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void)
    /// Ends at once what still runs of a drain (shutdown while a reload's drain is under way).
    func abandon()
}

extension EventStore {
    /// Records deliveries, trying again every second while the journal refuses the write (the events stay
    /// handed out meanwhile, so nothing delivers them twice), until it succeeds or the store is closed. Failures are
    /// logged through the worker's `retryLog` (every owed mark fails each second while the disk is full).
    /// `done` learns whether the marks are durable (false: the store was closed first); `refused` is what is logged
    /// then.
    func markDurably(
        _ marks: [DeliveredMark],
        sink: String,
        metrics: any DeliveryMetrics,
        retryLog: RateLimitedLog,
        refused: String = "cannot record deliveries, the journal is closed; they happen again after the restart",
        done: (@Sendable (_ recorded: Bool) -> Void)? = nil
    ) {
        markDelivered(marks) { [self] error in
            guard let error else {
                done?(true)
                return
            }
            metrics.storageError(operation: "mark_delivered")
            if error.code == .unavailable, error.detail != "journal queue full" {
                retryLog.log(
                    .error,
                    kind: "mark_closed_\(sink)",
                    refused,
                    metadata: ["sink": "\(sink)", "events": .stringConvertible(marks.count), "error": "\(error)"]
                )
                done?(false)
                return
            }
            // Each owed mark is tried again every second while the disk is full: bounded, as the journal's own
            // failed appends are (every attempt is still counted).
            retryLog.log(
                .error,
                kind: "mark_retry_\(sink)",
                "cannot record deliveries; trying again in 1 s",
                metadata: ["sink": "\(sink)", "events": .stringConvertible(marks.count), "error": "\(error)"]
            )
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) {
                self.markDurably(
                    marks,
                    sink: sink,
                    metrics: metrics,
                    retryLog: retryLog,
                    refused: refused,
                    done: done
                )
            }
        }
    }
}
