import Delivery

/// The daemon's metrics are what the delivery side records through (the methods are in `DaemonMetrics.swift`).
extension DaemonMetrics: DeliveryMetrics {}
