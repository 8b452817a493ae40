import Delivery
import Dispatch

/// Delivers events to one named sink and marks them delivered in the store when done.
protocol SinkWorker: AnyObject, Sendable {
    /// The sink's configured name.
    var name: String { get }
    /// Queues `event`; never blocks the caller (the request path).
    func deliver(_ event: StoredEvent)
    /// Whether nothing is queued or running (then a journal re-feed cannot double-submit).
    var isIdle: Bool { get }
    /// Whether events were dropped from memory and must be re-fed from the journal when idle.
    var needsRefeed: Bool { get }
    /// Called before a re-feed from the journal starts.
    func refeedStarted()
    /// Reopens files after logrotate (SIGHUP).
    func reopen()
    /// Stops taking work and finishes or abandons (leaving pending) what runs by `deadline`.
    func drain(deadline: DispatchTime, completion: @escaping @Sendable () -> Void)
}
