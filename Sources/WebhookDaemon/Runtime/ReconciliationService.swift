import Dispatch
import EventStore
import Glibc
import Logging
import Synchronization
import VippsAPI
import VippsWebhooks

/// Reconciliation inside the daemon, on a queue of its own (never the ingest path): periodically, when
/// `vipps_api.reconcile_minutes` is above 0, for the unfinished payments that are due (see
/// ``PaymentLedger/due(nowMillis:quietMillis:spacingMillis:)``), at most ``callsPerMinute`` event-log calls a minute;
/// and on request, from `vipps-webhookd reconcile` through the control socket. Follows reloads.
final class ReconciliationService: @unchecked Sendable {
    /// Event-log calls a minute the periodic mode makes at most (the vendor documents no lower limit).
    static let callsPerMinute = 60
    /// A payment is checked only once its latest event is this old (or one interval, when shorter).
    static let quietSeconds = 300.0

    /// `Vipps-System-*` headers of the daemon's ePayment calls.
    static let identity = ClientIdentity(
        systemName: "vipps-webhookd",
        systemVersion: BuildInfo.version,
        pluginName: "vipps-webhookd-reconciliation",
        pluginVersion: BuildInfo.version
    )

    private let queue = DispatchQueue(label: "vipps-webhookd.reconcile")
    private let store: EventStore
    private let payments: PaymentLedger
    private let endpoints: EndpointTableBox
    private let deliver: (@Sendable (StoredEvent, DecodedEvent, [String]) -> Void)?
    private let logger: Logger

    // Confined to `queue`.
    private var configuration: DaemonConfiguration?
    private var reconciler: Reconciler?
    private var timer: (any DispatchSourceTimer)?
    private var stopped = false
    /// The rest of the current periodic round, checked one a second (see ``callsPerMinute``).
    private var round: [PaymentState] = []
    private let stopFlag = Mutex(false)

    /// A service that does nothing until ``apply(_:)``.
    init(
        store: EventStore,
        payments: PaymentLedger,
        endpoints: EndpointTableBox,
        deliver: (@Sendable (StoredEvent, DecodedEvent, [String]) -> Void)?,
        logger: Logger
    ) {
        self.store = store
        self.payments = payments
        self.endpoints = endpoints
        self.deliver = deliver
        self.logger = logger
    }

    /// Takes `configuration` (at start and on every reload): builds the API client from `vipps_api` and starts,
    /// re-times or stops the periodic checks. Does not wait: a reconcile under way (API calls with their timeouts and
    /// retries) finishes first, and the caller (the daemon's control queue, which also takes SIGTERM and feeds the
    /// watchdog) must not block behind it.
    func apply(_ configuration: DaemonConfiguration) {
        // Built on the caller's thread (its OpenSSL context too), only swapped in on the queue: a context set up on
        // a dispatch worker made the daemon's exit crash (status 139) now and then.
        let built = configuration.vippsAPI.flatMap { settings in
            do {
                return try Self.reconciler(
                    settings: settings,
                    store: store,
                    payments: payments,
                    endpoints: endpoints,
                    deliver: deliver,
                    logger: logger
                )
            } catch {
                logger.error("reconciliation: cannot set up the API client", metadata: ["error": "\(error)"])
                return nil
            }
        }
        queue.async { [self] in
            guard !stopped else { return }
            self.configuration = configuration
            timer?.cancel()
            timer = nil
            reconciler = built
            guard let seconds = configuration.vippsAPI?.reconcileSeconds, seconds > 0, reconciler != nil else { return }
            let source = DispatchSource.makeTimerSource(queue: queue)
            source.schedule(deadline: .now() + seconds, repeating: seconds, leeway: .milliseconds(100))
            source.setEventHandler { [self] in tick(intervalSeconds: seconds) }
            source.resume()
            timer = source
        }
    }

    /// Runs a `reconcile` request (from the control socket) on the service's queue; false when any payment failed.
    func handle(_ request: ReconcileRequest, output: (String) -> Void) -> Bool {
        queue.sync {
            guard let reconciler, let configuration else {
                output("error: reconciliation needs a vipps_api block in the configuration")
                return false
            }
            return ReconcileRun(reconciler: reconciler, payments: payments, configuration: configuration)
                .run(request, nowMillis: Reconciler.nowMillis(), output: output)
        }
    }

    /// Stops the periodic checks without waiting: a payment being checked finishes, no other one starts.
    func stop() {
        stopFlag.withLock { $0 = true }
        queue.async { [self] in
            stopped = true
            timer?.cancel()
            timer = nil
        }
    }

    private var isStopping: Bool { stopFlag.withLock { $0 } }

    /// One periodic round: the due payments, oldest check first, at most the calls the rate allows per interval,
    /// one started every 60 / ``callsPerMinute`` seconds. A round still under way is not restarted.
    private func tick(intervalSeconds: Double) {
        guard !stopped, reconciler != nil, round.isEmpty else { return }
        let quiet = min(Self.quietSeconds, intervalSeconds)
        let due = payments.due(
            nowMillis: Reconciler.nowMillis(),
            quietMillis: Int64(quiet * 1000),
            spacingMillis: Int64(intervalSeconds * 1000)
        )
        let allowed = max(1, Int(Double(Self.callsPerMinute) * intervalSeconds / 60))
        round = Array(due.prefix(allowed))
        checkNext()
        if due.count > allowed {
            logger.info(
                "reconciliation: more payments due than the rate allows; the rest wait for the next round",
                metadata: ["due": "\(due.count)", "checked": "\(allowed)"]
            )
        }
    }

    /// Checks the next payment of the round, then frees the queue (for `reconcile` requests and reloads) until the
    /// next one may start.
    private func checkNext() {
        guard !stopped, !isStopping, let reconciler, !round.isEmpty else {
            round = []
            return
        }
        let payment = round.removeFirst()
        let started = DispatchTime.now()
        let sentBefore = reconciler.apiRequests
        _ = reconciler.reconcile(msn: payment.msn, reference: payment.reference, endpoint: payment.endpoint)
        guard !round.isEmpty else { return }
        // Paced by requests, not payments: retries of a failing API (429, 5xx, a 401's second try) count, so a
        // vendor in trouble gets no more than the rate.
        let sent = max(1, reconciler.apiRequests - sentBefore)
        queue.asyncAfter(deadline: started + Double(sent) * 60.0 / Double(Self.callsPerMinute)) { [self] in
            checkNext()
        }
    }

    /// A reconciler talking to the API `settings` name.
    static func reconciler(
        settings: VippsAPISettings,
        store: EventStore,
        payments: PaymentLedger,
        endpoints: EndpointTableBox,
        deliver: (@Sendable (StoredEvent, DecodedEvent, [String]) -> Void)?,
        logger: Logger
    ) throws(ManagementError) -> Reconciler {
        let session = try VippsAPISession(
            baseURL: settings.baseURL,
            credentials: settings.credentials,
            identity: identity,
            nowMillis: { Reconciler.nowMillis() },
            sleep: { seconds in usleep(UInt32(min(seconds, 60) * 1_000_000)) }
        )
        return Reconciler(
            client: EPaymentClient(session: session),
            store: store,
            payments: payments,
            endpoints: endpoints,
            deliver: deliver,
            logger: logger
        )
    }
}
