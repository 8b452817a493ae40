import CoreMetrics
import Prometheus

/// A swift-metrics backend on a Prometheus registry that gives every family its `# HELP` text (`MetricHelp`).
///
/// swift-prometheus's own `PrometheusMetricsFactory` registers every family with an empty help text, so its
/// exposition has `# TYPE` lines only; this factory makes the same instruments through the registry's descriptor
/// API, which carries the text. Counters are counters, recorders without aggregation and meters are gauges,
/// aggregating recorders are value histograms and timers are duration histograms (buckets per name, as with the
/// stock factory).
struct DocumentedMetricsFactory: MetricsFactory {
    /// The registry the instruments are made in.
    let registry: PrometheusCollectorRegistry
    /// Buckets of timers by name; others get ``defaultDurationBuckets``.
    var durationHistogramBuckets: [String: [Duration]] = [:]
    /// Buckets of aggregating recorders by name; others get ``defaultValueBuckets``.
    var valueHistogramBuckets: [String: [Double]] = [:]

    static let defaultDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    static let defaultValueBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    private func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: MetricHelp.text(for: name))
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: descriptor(label),
            labels: dimensions,
            buckets: valueHistogramBuckets[label] ?? Self.defaultValueBuckets
        )
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: descriptor(label),
            labels: dimensions,
            buckets: durationHistogramBuckets[label] ?? Self.defaultDurationBuckets
        )
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
