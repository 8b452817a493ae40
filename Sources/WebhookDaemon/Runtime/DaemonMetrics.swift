import Glibc
import Logging
import Metrics
import Prometheus
import Synchronization

/// The daemon's metrics: swift-metrics instruments backed by a Prometheus registry, rendered at `GET /metrics`.
///
/// Modules below (Delivery) record through the swift-metrics API; this type bootstraps the backend once per process
/// and keeps the request-path counters cached so a request does not look them up by label each time.
final class DaemonMetrics: Sendable {
    /// The registry `/metrics` renders.
    let registry: PrometheusCollectorRegistry
    private let cache = CounterCache()
    /// The two counters every request touches, by a key cheaper to hash and copy than the cache's.
    private let requests = CounterIndex<RequestKey>()
    private let acceptedEvents = CounterIndex<String>()

    private struct RequestKey: Hashable, Sendable {
        var endpoint: String
        var status: Int
    }

    private init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Bootstraps swift-metrics with Prometheus (once per process) and returns the daemon's metrics.
    static func bootstrap() -> DaemonMetrics {
        shared.withLock { shared in
            if let existing = shared { return existing }
            let metrics = makeBootstrapped()
            shared = metrics
            return metrics
        }
    }

    /// Bootstraps swift-metrics with Prometheus; once per process (``bootstrap()``).
    private static func makeBootstrapped() -> DaemonMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = DocumentedMetricsFactory(registry: registry)
        let fine: [Duration] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .seconds(1),
        ]
        factory.durationHistogramBuckets["vipps_webhookd_journal_fsync_seconds"] = fine
        factory.durationHistogramBuckets["vipps_webhookd_http_request_duration_seconds"] = fine
        MetricsSystem.bootstrap(factory)
        Metrics.Gauge(label: "vipps_webhookd_build_info", dimensions: [("version", BuildInfo.version)]).record(1)
        return DaemonMetrics(registry: registry)
    }

    private static let shared = Mutex<DaemonMetrics?>(nil)

    /// Prometheus text exposition of every metric; the state directory's file-system gauges are read first.
    func exposition() -> [UInt8] {
        if let directory = stateDirectory.withLock({ $0 }) { recordFileSystem(of: directory) }
        return registry.emitToBuffer()
    }

    /// The state directory whose file system `vipps_webhookd_state_dir_free_bytes` and `…_size_bytes` describe
    /// (read at each scrape: one statvfs(2)).
    func watchStateDirectory(_ path: String) {
        stateDirectory.withLock { $0 = path }
        recordFileSystem(of: path)
    }

    /// Reads the file system of `path` into the gauges. A failure keeps their last values; it is counted in
    /// `vipps_webhookd_storage_errors_total{operation="statvfs"}` and logged once until a read succeeds again.
    private func recordFileSystem(of path: String) {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            let code = errno
            storageError(operation: "statvfs")
            if !statvfsFailing.exchange(true, ordering: .relaxed) {
                Logger(label: "vipps-webhookd").error(
                    "cannot read the state directory's file system; the state_dir gauges keep their last values",
                    metadata: ["path": "\(path)", "error": "\(String(cString: strerror(code))) (errno \(code))"]
                )
            }
            return
        }
        statvfsFailing.store(false, ordering: .relaxed)
        let blockSize = Int64(info.f_frsize)
        stateDirectoryFree.record(Int64(info.f_bavail) * blockSize)
        stateDirectorySize.record(Int64(info.f_blocks) * blockSize)
    }

    /// Creates, at zero, the series of every configured endpoint and sink that would otherwise appear only at their
    /// first occurrence, so dashboards and alerts see them from the start (and after a reload adds some).
    func prepareSeries(endpoints: [String], sinks: [(name: String, isExec: Bool)]) {
        for endpoint in endpoints {
            for status in ["200", "401"] {
                _ = cache.counter("vipps_webhookd_http_requests_total", [("endpoint", endpoint), ("status", status)])
            }
            _ = cache.counter("vipps_webhookd_unrouted_events_total", [("endpoint", endpoint)])
        }
        for sink in sinks {
            _ = cache.counter("vipps_webhookd_sink_deliveries_total", [("sink", sink.name), ("outcome", "ok")])
            _ = cache.gauge("vipps_webhookd_sink_overflow", [("sink", sink.name)])
            guard sink.isExec else { continue }
            for outcome in ["ok", "failed", "timeout", "spawn_error"] {
                _ = Metrics.Counter(
                    label: "vipps_webhookd_hook_runs_total",
                    dimensions: [("sink", sink.name), ("outcome", outcome)]
                )
            }
            _ = Metrics.Counter(label: "vipps_webhookd_dead_letters_total", dimensions: [("sink", sink.name)])
            _ = Metrics.Counter(
                label: "vipps_webhookd_dead_letter_write_errors_total",
                dimensions: [("sink", sink.name)]
            )
            _ = Metrics.Gauge(label: "vipps_webhookd_dead_letters", dimensions: [("sink", sink.name)])
        }
        _ = cache.counter("vipps_webhookd_duplicates_total", [])
        _ = cache.counter("vipps_webhookd_config_reloads_total", [("result", "refused")])
        // Every operation's series from the start: the shipped alert (`increase(...[10m]) > 0`) sees no increase in a
        // series whose first sample is already 1.
        for operation in Self.storageOperations {
            _ = cache.counter("vipps_webhookd_storage_errors_total", [("operation", operation)])
        }
    }

    /// The `operation` label values of `vipps_webhookd_storage_errors_total`.
    static let storageOperations = [
        "journal", "read_pending", "mark_delivered", "mark_at_shutdown", "file_write", "file_reopen", "file_recreate",
        "dead_letter", "dead_letter_count", "statvfs",
    ]

    /// Counts one answered request.
    func request(endpoint: String, status: Int, duration: Duration) {
        requests.counter(RequestKey(endpoint: endpoint, status: status)) {
            cache.counter("vipps_webhookd_http_requests_total", [("endpoint", endpoint), ("status", String(status))])
        }
        .increment()
        requestDuration.recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        )
    }

    /// Counts a rejected signature by reason.
    func verificationFailure(endpoint: String, reason: String) {
        cache.counter("vipps_webhookd_verification_failures_total", [("endpoint", endpoint), ("reason", reason)])
            .increment()
    }

    /// Counts a newly journaled event by type.
    func eventAccepted(type: String) {
        acceptedEvents.counter(type) { cache.counter("vipps_webhookd_events_total", [("type", type)]) }.increment()
    }

    /// Counts a redelivery answered as a duplicate (also one recognised through a pre-upgrade dedup entry).
    func duplicate() {
        cache.counter("vipps_webhookd_duplicates_total", []).increment()
    }

    /// Counts an authentic event with documented constraints broken (kept all the same).
    func findings(type: String) {
        cache.counter("vipps_webhookd_event_findings_total", [("type", type)]).increment()
    }

    /// Counts an event that matched no route (kept in the journal, delivered nowhere).
    func unrouted(endpoint: String) {
        cache.counter("vipps_webhookd_unrouted_events_total", [("endpoint", endpoint)]).increment()
    }

    /// Counts a failure the HTTP server handled itself (parse error, timeout, refused connection).
    func serverEvent(kind: String) {
        cache.counter("vipps_webhookd_http_errors_total", [("kind", kind)]).increment()
    }

    /// Counts a finished delivery of one event to one sink.
    func delivery(sink: String, outcome: String) {
        deliveries(sink: sink, outcome: outcome, count: 1)
    }

    /// Counts `count` finished deliveries to one sink.
    func deliveries(sink: String, outcome: String, count: Int) {
        cache.counter("vipps_webhookd_sink_deliveries_total", [("sink", sink), ("outcome", outcome)])
            .increment(by: count)
    }

    /// Counts a storage failure seen by the daemon (journal or sink write, delivered mark).
    func storageError(operation: String) {
        cache.counter("vipps_webhookd_storage_errors_total", [("operation", operation)]).increment()
    }

    /// Counts a configuration reload by result.
    func reload(result: String) {
        cache.counter("vipps_webhookd_config_reloads_total", [("result", result)]).increment()
    }

    /// Records how many events wait in memory because a sink's hook queue was full.
    func recordOverflow(sink: String, count: Int) {
        cache.gauge("vipps_webhookd_sink_overflow", [("sink", sink)]).record(count)
    }

    /// A handle on `vipps_webhookd_registration_ok{endpoint}`; the watchdog destroys it when the endpoint goes.
    func registrationOK(endpoint: String) -> Metrics.Gauge {
        Metrics.Gauge(label: "vipps_webhookd_registration_ok", dimensions: [("endpoint", endpoint)])
    }

    /// Counts a registration check that could not ask the API (`network`, `rejected`, `malformed`, `input`).
    func registrationCheckFailure(reason: String) {
        cache.counter("vipps_webhookd_registration_check_failures_total", [("reason", reason)]).increment()
    }

    /// Records whether `endpoint` is in a bad-signature streak longer than the alert time.
    func signatureFailureStreak(endpoint: String, active: Bool) {
        cache.gauge("vipps_webhookd_signature_failure_streak", [("endpoint", endpoint)]).record(active ? 1 : 0)
    }

    /// Records the number of open client connections.
    func recordOpenConnections(_ count: Int) {
        openConnections.record(count)
    }

    private let requestDuration = Metrics.Timer(label: "vipps_webhookd_http_request_duration_seconds")
    private let openConnections = Metrics.Gauge(label: "vipps_webhookd_http_open_connections")
    private let stateDirectoryFree = Metrics.Gauge(label: "vipps_webhookd_state_dir_free_bytes")
    /// Whether the last statvfs of the state directory failed (its error is logged once per failing stretch).
    private let statvfsFailing = Atomic(false)
    private let stateDirectorySize = Metrics.Gauge(label: "vipps_webhookd_state_dir_size_bytes")
    private let stateDirectory = Mutex<String?>(nil)
}

/// Counters of one metric by a key of the caller's, each made once (by `make`, through the ``CounterCache``).
private final class CounterIndex<Key: Hashable & Sendable>: Sendable {
    private let counters = Mutex<[Key: Metrics.Counter]>([:])

    func counter(_ key: Key, make: () -> Metrics.Counter) -> Metrics.Counter {
        if let found = counters.withLock({ $0[key] }) { return found }
        let made = make()
        counters.withLock { $0[key] = made }
        return made
    }
}

/// swift-metrics counters and gauges by name and labels, created once.
private final class CounterCache: Sendable {
    private let counters = Mutex<[String: Metrics.Counter]>([:])
    private let gauges = Mutex<[String: Metrics.Gauge]>([:])

    func gauge(_ name: String, _ dimensions: [(String, String)]) -> Metrics.Gauge {
        let key = Self.key(name, dimensions)
        return gauges.withLock { gauges in
            if let gauge = gauges[key] { return gauge }
            let gauge = Metrics.Gauge(label: name, dimensions: dimensions)
            gauges[key] = gauge
            return gauge
        }
    }

    /// The metric's name and labels joined with U+0001, as the cache's key. The counters every request touches
    /// are looked up by ``CounterIndex`` instead; the rest are rare enough for this.
    private static func key(_ name: String, _ dimensions: [(String, String)]) -> String {
        var key = name
        for (label, value) in dimensions {
            key += "\u{1}"
            key += label
            key += "="
            key += value
        }
        return key
    }

    func counter(_ name: String, _ dimensions: [(String, String)]) -> Metrics.Counter {
        let key = Self.key(name, dimensions)
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: name, dimensions: dimensions)
            counters[key] = counter
            return counter
        }
    }
}
