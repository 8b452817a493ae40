import ArgumentParser
import EventStore
import Glibc
import Logging
import VippsAPI

/// `vipps-webhookd reconcile`: asks the ePayment API for the event log of payments and journals every event the
/// daemon never received, exactly as if its webhook had come, marked `source: reconciliation`.
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Fetch ePayment event logs and journal the events the webhooks never brought.",
        discussion: """
            Without --reference: the payments seen within --since whose last known state is not final. With a running \
            daemon, the request goes to it through <state_dir>/control.sock (run as the daemon's user or root) and \
            its sinks get the events at once. Without one, the events are journaled here and delivered when the \
            daemon starts. Prints one line per payment and a total; exits 0 only when every payment was checked.
            """
    )

    @OptionGroup var state: StateDirectoryOptions

    @Option(name: .customLong("reference"), help: "A payment reference to reconcile (repeatable).")
    var references: [String] = []

    @Option(help: "How far back to look for unfinished payments: 90s, 30m, 12h or 7d (default 7d).")
    var since: String = "7d"

    @Option(help: "Merchant serial number for a reference the daemon has not seen (default: vipps_api's).")
    var msn: String?

    @Option(help: "Endpoint whose routes pick the sinks for a reference the daemon has not seen.")
    var endpoint: String?

    /// Seconds a line from the daemon may take: one payment at worst, its token call and its event-log call each
    /// tried 4 times (30 s each, waiting up to 30 s between), all twice after a 401, and some margin.
    static let lineTimeoutSeconds = 1_000

    func validate() throws {
        guard Self.seconds(since) != nil else { throw ValidationError("--since must look like 90s, 30m, 12h or 7d") }
        if let msn {
            do { try ManagementInput.checkMSN(msn) } catch { throw ValidationError("--msn: \(error)") }
        }
        // What the daemon would refuse is refused here, with or without one running.
        if let problem = request.problem { throw ValidationError(problem) }
    }

    /// The request the options make.
    private var request: ReconcileRequest {
        ReconcileRequest(
            references: references,
            sinceSeconds: Self.seconds(since) ?? 7 * 24 * 3600,
            msn: msn,
            endpoint: endpoint
        )
    }

    func run() throws {
        let request = self.request
        let stateDirectory = try state.stateDirectory()
        if let succeeded = try askDaemon(stateDirectory: stateDirectory, request: request) {
            if !succeeded { throw ExitCode.failure }
            return
        }
        guard try runHere(stateDirectory: stateDirectory, request: request) else { throw ExitCode.failure }
    }

    /// Sends `request` to the daemon's control socket and prints its lines; nil when no daemon listens there.
    private func askDaemon(stateDirectory: String, request: ReconcileRequest) throws -> Bool? {
        let path = stateDirectory + "/" + ControlSocket.fileName
        guard let address = UnixSocketAddress(path: path) else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CommandFailure("cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            if errno == ENOENT || errno == ECONNREFUSED { return nil }
            throw CommandFailure("cannot reach the daemon at \(path): \(String(cString: strerror(errno)))")
        }
        UnixSocketAddress.setTimeouts(fd, seconds: Self.lineTimeoutSeconds)
        guard UnixSocketAddress.writeAll(fd, request.line) else {
            throw CommandFailure("the daemon at \(path) did not take the request")
        }
        var reader = SocketLineReader(fd: fd, limit: 1 << 20)
        while let line = reader.next() {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("exit ") { return text == "exit 0" }
            print(text)
        }
        throw CommandFailure("the daemon at \(path) stopped answering before the end")
    }

    /// Reconciles in this process, on the state directory no daemon holds; returns whether every payment was checked.
    private func runHere(stateDirectory: String, request: ReconcileRequest) throws -> Bool {
        let path = try state.configurationPath()
        // Routes, sinks and the API settings: the endpoints' secrets are not read.
        let loaded = ConfigurationLoader(secretResolver: SecretResolver(readsSecrets: false)).load(path: path)
        guard let configuration = loaded.configuration else {
            for problem in loaded.problems { printError("\(problem)") }
            throw CommandFailure("\(path): configuration has problems")
        }
        guard let settings = configuration.vippsAPI else {
            throw CommandFailure("\(path): reconciliation needs a vipps_api block (see config/config.example.yaml)")
        }
        let logger = Logger(label: "vipps-webhookd.reconcile") { _ in SwiftLogNoOpLogHandler() }
        try StateDirectoryOwner.become(ownerOf: stateDirectory)
        let lock = try StateDirectoryLock(directory: stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        var options = EventStoreOptions()
        options.dedupCapacity = configuration.dedupMaxIDs
        options.asideDirectory = stateDirectory + "/corrupt"
        let store = try EventStore(directory: stateDirectory + "/journal", options: options, logger: logger)
        defer { store.close() }
        let payments = try PaymentLedger(
            stateDirectory: stateDirectory,
            nowMillis: Reconciler.nowMillis(),
            logger: logger
        )
        defer { payments.close() }
        let reconciler = try ReconciliationService.reconciler(
            settings: settings,
            store: store,
            payments: payments,
            endpoints: EndpointTableBox(EndpointTable(configuration: configuration)),
            deliver: nil,
            logger: logger
        )
        var added = false
        let succeeded = ReconcileRun(reconciler: reconciler, payments: payments, configuration: configuration)
            .run(request, nowMillis: Reconciler.nowMillis()) { line in
                if line.contains(" added, ") && !line.contains(" 0 events added") { added = true }
                print(line)
            }
        if added { print("no daemon is running: the added events are journaled and go to the sinks when it starts") }
        return succeeded
    }

    /// `90s`, `30m`, `12h`, `7d` in seconds; nil when malformed or not positive (the request's bound, 366 days, is
    /// checked with the rest of it).
    static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, let value = Int64(text.dropLast()), value > 0, value <= 366 * 24 * 3600 else {
            return nil
        }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        case "d": return value * 86400
        default: return nil
        }
    }
}
