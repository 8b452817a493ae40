import Delivery
import Dispatch
import EventStore
import FoundationEssentials
import Glibc
import HTTPServer
import Logging
import POSIX

/// The running daemon: state directory, event store, sink workers, HTTP server, signals and systemd notifications.
///
/// Start-up order makes sure nothing is acknowledged before it can be stored and nothing stored is forgotten:
/// open the journal → recover pending deliveries → start the sinks → listen → tell systemd READY.
final class Daemon: @unchecked Sendable {
    private var configuration: DaemonConfiguration
    /// The configuration at start: what the restart-only keys still hold, whatever reloads came since.
    private let startedWith: DaemonConfiguration
    private let configurationPath: String?
    private let logger: Logger
    private let metrics: DaemonMetrics
    private let health = HealthState()
    private let control = DispatchQueue(label: "vipps-webhookd.control")
    private let notifier: SystemdNotifier?

    /// Held from start until the process exits: no second daemon opens the same state directory.
    private var stateLock: StateDirectoryLock?
    private var store: EventStore!
    private var factory: SinkFactory!
    private var dispatcher: DeliveryDispatcher!
    private var requeue: DeadLetterRequeue!
    private var deadLetters: DeadLetterStore!
    private var endpoints: EndpointTableBox!
    private var server: HTTPServer!
    private var watchdog: SystemdWatchdog?
    private var registrationWatchdog: RegistrationWatchdog!
    private var payments: PaymentLedger!
    private var reconciliation: ReconciliationService!
    private var controlSocket: ControlSocket?
    private var signalReader: SignalReader?
    private var stopping = false

    /// A daemon for `configuration`; `configurationPath` is re-read on SIGHUP (nil for the development default).
    init(configuration: DaemonConfiguration, configurationPath: String?, logger: Logger, metrics: DaemonMetrics) {
        self.configuration = configuration
        self.startedWith = configuration
        self.configurationPath = configurationPath
        self.logger = logger
        self.metrics = metrics
        do {
            notifier = try SystemdNotifier()
        } catch {
            logger.warning(
                "systemd notification settings are malformed; not notifying",
                metadata: ["error": "\(error)"]
            )
            notifier = nil
        }
    }

    /// Opens storage, recovers, starts listening and installs signal handlers. Throws on anything that prevents
    /// serving safely (the process then exits non-zero and systemd restarts it).
    func start() throws {
        signal(SIGPIPE, SIG_IGN)
        Self.blockControlSignals()
        let stateDirectory = configuration.stateDirectory
        try DurableDirectory.create(stateDirectory, mode: 0o750)
        stateLock = try StateDirectoryLock(directory: stateDirectory)
        var storeOptions = EventStoreOptions()
        storeOptions.dedupCapacity = configuration.dedupMaxIDs
        storeOptions.asideDirectory = stateDirectory + "/corrupt"
        store = try EventStore(directory: stateDirectory + "/journal", options: storeOptions, logger: logger)
        store.onDeadEnd { [self] error in control.async { self.deadEnd(error) } }
        let deadLetters = try DeadLetterStore(stateDirectory: stateDirectory)
        self.deadLetters = deadLetters
        metrics.watchStateDirectory(stateDirectory)
        prepareMetrics(for: configuration)
        factory = SinkFactory(
            store: store,
            deadLetters: deadLetters,
            runner: ProcessRunner(),
            metrics: metrics,
            logger: logger
        )
        // Undocumented test knob (scripts/reliability.sh): makes the workers spill to the journal early.
        if let limit = ProcessInfo.processInfo.environment["VIPPS_WEBHOOKD_SINK_MEMORY_EVENTS"].flatMap(Int.init),
            limit > 0
        {
            factory.memoryLimit = limit
            factory.hookQueueCapacity = limit
        }
        dispatcher = DeliveryDispatcher(store: store, deadLetters: deadLetters, metrics: metrics, logger: logger)
        // What can still stop the start comes before any sink starts: a start that failed after its sinks had
        // started would have run hooks of events owed since the last stop without recording them, and every
        // restart (systemd tries again) would run them again.
        payments = try PaymentLedger(stateDirectory: stateDirectory, nowMillis: Reconciler.nowMillis(), logger: logger)
        var serverSettings = try serverConfiguration()
        serverSettings.listen = .fileDescriptor(try HTTPServer.openListeningSocket(serverSettings))
        let owed = store.owedPerSink
        if !owed.isEmpty {
            // Streamed from the journal by the dispatcher, page by page, oldest first.
            logger.notice(
                "delivering events journaled before the last stop",
                metadata: ["deliveries": .stringConvertible(owed.values.reduce(0, +))]
            )
        }
        dispatcher.install(try factory.workers(for: configuration.sinks, existing: [:]))
        requeue = DeadLetterRequeue(deadLetters: deadLetters, dispatcher: dispatcher, store: store, logger: logger)
        requeue.start()

        endpoints = EndpointTableBox(EndpointTable(configuration: configuration))
        reconciliation = ReconciliationService(
            store: store,
            payments: payments,
            endpoints: endpoints,
            deliver: { [dispatcher] event, decoded, sinks in dispatcher?.deliver(event, decoded: decoded, to: sinks) },
            logger: logger
        )
        reconciliation.apply(configuration)
        do {
            controlSocket = try ControlSocket(stateDirectory: stateDirectory, logger: logger) { [reconciliation] in
                reconciliation?.handle($0, output: $1) ?? false
            }
        } catch {
            logger.warning("no control socket: `reconcile` cannot reach this daemon", metadata: ["error": "\(error)"])
        }
        let handler = IngestHandler(
            endpoints: endpoints,
            store: store,
            payments: payments,
            dispatcher: dispatcher,
            metrics: metrics,
            health: health,
            logger: logger
        )
        let observer = ServerObserver(metrics: metrics, logger: logger)
        server = HTTPServer(configuration: serverSettings, handler: handler, observer: { observer.observe($0) })
        // Before the server answers: its first `/metrics` already has every endpoint's registration gauge.
        registrationWatchdog = RegistrationWatchdog(logger: logger, metrics: metrics)
        registrationWatchdog.apply(configuration)
        let bound: HTTPServer.BoundAddress
        do {
            bound = try server.start()
        } catch {
            registrationWatchdog.stop()
            // The sinks run: let them finish (or record as pending) what they started before the process exits.
            let drained = DispatchSemaphore(value: 0)
            dispatcher.drain(deadline: .now() + .seconds(startedWith.server.shutdownGraceSeconds)) {
                drained.signal()
            }
            drained.wait()
            store.close()
            throw error
        }
        health.set("ready")
        notify([.ready, .status("listening on \(bound)")])
        watchdog = notifier?.startWatchdog(queue: control, isHealthy: { [health] in !health.isFailed })
        logger.notice(
            "listening",
            metadata: [
                "address": "\(bound)", "endpoints": "\(configuration.endpoints.map(\.path).joined(separator: ","))",
                "state_dir": "\(stateDirectory)",
            ]
        )
        // Last: a signal handler may run as soon as it is installed, and it uses everything set up above. Signals
        // that came earlier are pending (blocked) and are handled then.
        try installSignalHandlers()
    }

    private func serverConfiguration() throws -> HTTPServerConfiguration {
        let inherited = try SocketActivation.takeInheritedSockets()
        var listen = HTTPServerConfiguration.Listen.address(configuration.listen)
        if inherited.isEmpty, let address = ListenAddress(configuration.listen) {
            // A host name (`localhost`) is bound as the address it resolves to; one that no longer resolves (DNS
            // changed since check-config) stops the start with the resolver's reason.
            switch address.literal() {
            case .success(let literal): listen = .address(literal)
            case .failure(let failure): throw failure
            }
        }
        if inherited.count > 1 {
            // Serving the first and ignoring the others would leave clients of the others unanswered.
            throw SystemdError(
                "systemd passed \(inherited.count) sockets (\(inherited.map(\.name).joined(separator: ", "))); "
                    + "vipps-webhookd serves one: give the socket unit one ListenStream="
            )
        }
        if let socket = inherited.first {
            try SocketActivation.adopt(inherited)
            listen = .fileDescriptor(socket.fd)
            logger.notice(
                "using the socket passed by systemd; listen: is ignored",
                metadata: ["fd": .stringConvertible(socket.fd), "name": "\(socket.name)"]
            )
        }
        let limits = configuration.server
        var server = HTTPServerConfiguration(listen: listen)
        server.maxHeadBytes = limits.maxHeaderBytes
        server.maxHeaderCount = limits.maxHeaderCount
        server.maxBufferedBytes = configuration.bufferedBytesBudget
        server.maxBodyBytes = configuration.maxBodyBytes
        server.headTimeout = .seconds(limits.headerTimeoutSeconds)
        server.bodyTimeout = .seconds(limits.bodyTimeoutSeconds)
        server.idleTimeout = .seconds(limits.idleTimeoutSeconds)
        server.maxConnections = limits.maxConnections
        server.maxRequestsPerConnection = limits.maxRequestsPerConnection
        server.backlog = 4096
        return server
    }

    /// Zero series for every configured endpoint and sink, and the dead letters waiting per sink.
    private func prepareMetrics(for configuration: DaemonConfiguration) {
        metrics.prepareSeries(
            endpoints: configuration.endpoints.map(\.path),
            sinks: configuration.sinks.map { sink in
                if case .exec = sink.kind { (sink.name, true) } else { (sink.name, false) }
            }
        )
        let execSinks = configuration.sinks.compactMap { sink in
            if case .exec = sink.kind { sink.name } else { nil }
        }
        // Letters of a sink no longer configured wait too (and `dead-letters retry` brings them back with the sink):
        // counted, or the waiting dead letters' alert would clear at the next restart.
        let others: [String]
        do {
            others = try deadLetters.otherSinks(besides: execSinks)
        } catch {
            others = []
            metrics.storageError(operation: "dead_letter_count")
            logger.error("cannot count the dead letters", metadata: ["error": "\(error)"])
        }
        if let error = deadLetters.recordWaiting(sinks: execSinks + others) {
            metrics.storageError(operation: "dead_letter_count")
            logger.error("cannot count the dead letters", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Signals

    /// The signals that stop (SIGTERM, SIGINT) or reload (SIGHUP) the daemon.
    static let controlSignals = [SIGTERM, SIGINT, SIGHUP]

    /// Blocks the control signals in this thread and so in every thread it starts from now on (event loops, the
    /// hook supervisor, Dispatch's workers), so that only the ``SignalReader`` takes them. `serve` calls this first,
    /// before any thread exists: when the log's flush queue had started a Dispatch worker without the mask, a SIGTERM
    /// right after start-up went to that thread and was lost. ``start()`` calls it again for in-process use. Hooks
    /// are spawned with an empty mask.
    static func blockControlSignals() {
        SignalReader.block(controlSignals)
    }

    /// Starts reading the control signals; one that came during start-up is pending and read at once.
    private func installSignalHandlers() throws {
        signalReader = try SignalReader(signals: Self.controlSignals) { [self] number in
            control.async { [self] in handleSignal(number) }
        }
    }

    private func handleSignal(_ number: Int32) {
        if number == SIGHUP { reload() } else { shutdown(reason: number == SIGTERM ? "SIGTERM" : "SIGINT") }
    }

    /// SIGHUP: reads the configuration again and swaps it in whole; an invalid one is refused and the running one
    /// stays. File sinks reopen their files either way (logrotate).
    private func reload() {
        guard !stopping else { return }
        notify([.reloading])
        defer { notify([.ready, .status("configuration reloaded")]) }
        guard let configurationPath else {
            logger.notice("SIGHUP: reopening files (development default has no file to reload)")
            dispatcher.reopenFiles()
            return
        }
        let result = ConfigurationLoader().load(path: configurationPath)
        for warning in result.warnings { logger.warning("configuration: \(warning)") }
        guard let next = result.configuration else {
            for problem in result.problems { logger.error("configuration: \(problem)") }
            logger.error(
                "SIGHUP: new configuration refused; the running one stays",
                metadata: ["problems": .stringConvertible(result.problems.count)]
            )
            metrics.reload(result: "refused")
            dispatcher.reopenFiles()
            return
        }
        let workers: [String: any SinkWorker]
        do {
            workers = try factory.workers(for: next.sinks, existing: dispatcher.current)
        } catch {
            logger.error(
                "SIGHUP: cannot set up the new sinks; the running configuration stays",
                metadata: ["error": "\(error)"]
            )
            metrics.reload(result: "refused")
            dispatcher.reopenFiles()
            return
        }
        // Workers first, so that no route names a sink without one; an event routed under the old table to a sink
        // that goes away is settled by the dispatcher (a dead letter of that sink).
        dispatcher.install(workers)
        endpoints.replace(with: EndpointTable(configuration: next))
        registrationWatchdog.apply(next)
        reconciliation.apply(next)
        prepareMetrics(for: next)
        dispatcher.reopenFiles()
        let needRestart = RestartOnlyKeys.changed(from: startedWith, to: next)
        if !needRestart.isEmpty {
            logger.warning(
                "SIGHUP: these keys take effect at the next restart",
                metadata: ["keys": "\(needRestart.joined(separator: ","))"]
            )
        }
        configuration = next
        metrics.reload(result: "applied")
        logger.notice(
            "SIGHUP: configuration reloaded",
            metadata: [
                "endpoints": .stringConvertible(next.endpoints.count),
                "sinks": .stringConvertible(next.sinks.count),
            ]
        )
    }

    /// SIGTERM/SIGINT: stop accepting, answer requests in flight, let running hooks finish until the grace period
    /// ends (what is unfinished stays pending in the journal), close the journal, exit 0.
    private func shutdown(reason: String) {
        guard !stopping else { return }
        stopping = true
        registrationWatchdog.stop()
        reconciliation.stop()
        controlSocket?.stop()
        health.set("draining")
        // `server` is restart-only: the grace the daemon started with, whatever a reload read since.
        let grace = Duration.seconds(startedWith.server.shutdownGraceSeconds)
        // The unit's stop timeout may be shorter than the grace: systemd is asked for the grace and the time the
        // server then takes to finish its requests (at most a few seconds), or it would kill hooks still running
        // within the grace, their outcomes unrecorded.
        notify([.stopping, .extendTimeout(grace + .seconds(10)), .status("draining after \(reason)")])
        let deadline = DispatchTime.now() + .seconds(startedWith.server.shutdownGraceSeconds)
        logger.notice(
            "shutting down",
            metadata: ["signal": "\(reason)", "grace_seconds": .stringConvertible(grace.components.seconds)]
        )
        // The server keeps answering while the sinks drain, so /healthz says 503 "draining" instead of refusing
        // connections (webhooks are still journaled: they are delivered after the restart). Then it stops
        // accepting and lets requests in flight finish (at least one second, else what is left of the grace).
        dispatcher.drain(deadline: deadline) { [self] in
            let now = DispatchTime.now().uptimeNanoseconds
            let left = deadline.uptimeNanoseconds > now ? deadline.uptimeNanoseconds - now : 0
            server.shutdown(deadline: .nanoseconds(max(1_000_000_000, left))) { [self] in
                control.async { [self] in
                    watchdog?.cancel()
                    payments.close()
                    store.close()
                    logger.notice("stopped")
                    exit(0)
                }
            }
        }
    }

    /// The journal can no longer be written or cut back: webhooks already get 503; `/healthz` answers 503 from now
    /// on and the watchdog is no longer fed, so systemd restarts the daemon (a restart reopens the journal).
    private func deadEnd(_ error: StorageError) {
        health.fail("journal")
        logger.critical(
            "journal dead end: answering 503 to every webhook and to /healthz, watchdog stopped; restart needed",
            metadata: ["error": "\(error)", "watchdog": "\(watchdog == nil ? "not configured" : "stopped")"]
        )
        notify([.status("journal failed, restart needed: \(error)")])
    }

    private func notify(_ states: [SystemdNotifier.State]) {
        guard let notifier else { return }
        do {
            try notifier.notify(states)
        } catch {
            logger.warning("cannot notify systemd", metadata: ["error": "\(error)"])
        }
    }
}
