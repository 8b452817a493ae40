import Dispatch
import Glibc
import Logging
import Metrics
import Synchronization
import VippsAPI

/// Checks on a timer that every endpoint is still registered with the vendor for the event types it routes (the
/// vendor deletes a registration that has failed for two weeks, without telling anyone).
///
/// Runs on its own serial queue, never on the request path: a slow or failing API delays only the next check.
/// Per endpoint `vipps_webhookd_registration_ok{endpoint}` is 1 or 0 (0 until the first successful check); an
/// endpoint that turns missing or differing gets an error line, one that is fine again a notice. A failed check is
/// logged, counted (`vipps_webhookd_registration_check_failures_total`) and retried after 1 s, doubling up to the
/// check interval; the gauges keep their last known values meanwhile. A fresh client (and so a fresh access token)
/// is used for every check.
final class RegistrationWatchdog: @unchecked Sendable {
    /// Identity sent as `Vipps-System-*` headers.
    static let identity = ClientIdentity(
        systemName: "vipps-webhookd",
        systemVersion: BuildInfo.version,
        pluginName: "vipps-webhookd-watchdog",
        pluginVersion: BuildInfo.version
    )

    /// First retry delay after a failed check, in seconds.
    static let firstRetrySeconds = 1.0

    private let queue = DispatchQueue(label: "vipps-webhookd.registrations")
    private let logger: Logger
    private let metrics: DaemonMetrics
    private let stopped = Atomic(false)

    /// `vipps_webhookd_registration_ok` per endpoint path: made by ``apply(_:)`` before it returns (a scrape right
    /// after READY=1 finds them), set by the checks on `queue`.
    private let gauges = Mutex<[String: Metrics.Gauge]>([:])

    // Confined to `queue`.
    private var settings: VippsAPISettings?
    private var endpoints: [DaemonConfiguration.Endpoint] = []
    private var last: [String: RegistrationCheck.Outcome] = [:]
    private var failures = 0
    /// Bumped by every `apply`, so that a check scheduled under an older configuration does not run.
    private var generation = 0

    /// A watchdog that does nothing until ``apply(_:)``.
    init(logger: Logger, metrics: DaemonMetrics) {
        self.logger = logger
        self.metrics = metrics
    }

    /// Takes `configuration` (at start and on every reload): starts, re-targets or stops the checks. With
    /// `vipps_api` set and `check_registrations_minutes` above 0, a check runs at once and then on the interval.
    /// The gauges of the endpoints checked exist (0 until a check succeeds) once this returns; the checks start on
    /// the watchdog's queue.
    func apply(_ configuration: DaemonConfiguration) {
        guard !isStopped else { return }
        let active = configuration.vippsAPI.flatMap { $0.checkRegistrationsSeconds > 0 ? $0 : nil }
        let checked = active == nil ? [] : configuration.endpoints
        let paths = Set(checked.map(\.path))
        gauges.withLock { gauges in
            for (path, gauge) in gauges where !paths.contains(path) {
                gauge.destroy()
                gauges[path] = nil
            }
            for path in paths where gauges[path] == nil {
                let gauge = metrics.registrationOK(endpoint: path)
                gauge.record(0)
                gauges[path] = gauge
            }
        }
        queue.async { [self] in
            guard !isStopped else { return }
            generation += 1
            settings = active
            endpoints = checked
            last = last.filter { paths.contains($0.key) }
            guard let active else { return }
            failures = 0
            logger.info(
                "registration watchdog on",
                metadata: ["every_seconds": "\(active.checkRegistrationsSeconds)", "api": "\(active.baseURL)"]
            )
            check(generation: generation)
        }
    }

    /// Stops for good (shutdown): no check starts after this returns; one in flight is ignored when it ends.
    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
    }

    private var isStopped: Bool {
        stopped.load(ordering: .sequentiallyConsistent)
    }

    /// One check, then the next one scheduled (after the interval, or the backoff when the API failed).
    private func check(generation scheduled: Int) {
        guard scheduled == generation, !isStopped, let settings else { return }
        let listing: WebhookListing
        do {
            let client = try ManagementClient(
                baseURL: settings.baseURL,
                credentials: settings.credentials,
                identity: Self.identity
            )
            listing = try client.list()
        } catch {
            guard !isStopped else { return }
            failures += 1
            let delay = min(settings.checkRegistrationsSeconds, Self.firstRetrySeconds * pow(2, Double(failures - 1)))
            metrics.registrationCheckFailure(reason: Self.reason(error))
            logger.warning(
                "registration check failed: cannot list the webhook registrations",
                metadata: ["error": "\(error)", "failures": "\(failures)", "retry_seconds": "\(delay)"]
            )
            schedule(after: delay)
            return
        }
        guard !isStopped else { return }
        failures = 0
        for warning in listing.warnings {
            logger.warning("registration check: malformed registration skipped", metadata: ["detail": "\(warning)"])
        }
        for endpoint in endpoints {
            let outcome = RegistrationCheck.check(endpoint, against: listing.registrations)
            gauges.withLock { $0[endpoint.path] }?.record(outcome.isOK ? 1 : 0)
            report(endpoint, outcome, previous: last[endpoint.path])
            last[endpoint.path] = outcome
        }
        schedule(after: settings.checkRegistrationsSeconds)
    }

    /// Logs a change: an error when an endpoint turns missing or differing (also at the first check), a notice when
    /// it is ok again, an info line for the first ok, a warning for an endpoint without a public URL.
    private func report(
        _ endpoint: DaemonConfiguration.Endpoint,
        _ outcome: RegistrationCheck.Outcome,
        previous: RegistrationCheck.Outcome?
    ) {
        guard outcome != previous else { return }
        let metadata: Logger.Metadata = [
            "endpoint": "\(endpoint.path)", "registration": "\(outcome.word)",
            "detail": "\(RegistrationCheck.detail(endpoint: endpoint, outcome: outcome))",
        ]
        if outcome == .uncheckable {
            logger.warning("webhook registration cannot be checked: the endpoint has no public_url", metadata: metadata)
        } else if outcome.isOK {
            if previous == nil {
                logger.info("webhook registration ok", metadata: metadata)
            } else {
                logger.notice("webhook registration ok again", metadata: metadata)
            }
        } else {
            logger.error(
                "webhook registration \(outcome.word): deliveries for this endpoint may not arrive",
                metadata: metadata
            )
        }
    }

    private func schedule(after seconds: Double) {
        let scheduled = generation
        queue.asyncAfter(deadline: .now() + seconds) { [self] in check(generation: scheduled) }
    }

    /// A metric label for why the API could not be asked.
    private static func reason(_ error: any Error) -> String {
        switch error as? ManagementError {
        case .network?: "network"
        case .rejected?: "rejected"
        case .malformedResponse?, .unusableRegistration?: "malformed"
        case .invalidInput?, nil: "input"
        }
    }
}
