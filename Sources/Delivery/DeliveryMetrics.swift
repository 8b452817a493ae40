/// The counters and gauges the sink workers and the dispatcher record through; the daemon's metrics
/// (`Sources/WebhookDaemon/Runtime/DaemonMetrics.swift`) implement them with cached swift-metrics instruments, so
/// names and labels are defined in one place.
public protocol DeliveryMetrics: Sendable {
    /// Counts `count` finished deliveries to one sink
    /// (`vipps_webhookd_sink_deliveries_total{sink,outcome}`).
    func deliveries(sink: String, outcome: String, count: Int)
    /// Counts a storage failure (`vipps_webhookd_storage_errors_total{operation}`).
    func storageError(operation: String)
    /// Records how many events wait in memory because a sink's hook queue was full
    /// (`vipps_webhookd_sink_overflow{sink}`).
    func recordOverflow(sink: String, count: Int)
}

extension DeliveryMetrics {
    /// Counts a finished delivery of one event to one sink.
    public func delivery(sink: String, outcome: String) {
        deliveries(sink: sink, outcome: outcome, count: 1)
    }
}
