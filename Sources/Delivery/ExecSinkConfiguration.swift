/// Settings of one exec sink (the `exec:` entry of a sink in the config).
public struct ExecSinkConfiguration: Sendable {
    /// The default `PATH` of hooks; the daemon's own `PATH` is never passed on.
    public static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// Sink name from the config (used in logs, metrics and dead-letter files).
    public var name: String
    /// Program and arguments; arguments may contain `{field}` placeholders (see `ExecSinkTemplate`).
    public var argv: [String]
    /// Limit of one run; past it the hook's process group is killed and the attempt counts as failed.
    public var timeout: Duration
    /// Attempts in all, the first included, before the event goes to the dead letters.
    public var maxAttempts: Int
    /// Hooks of this sink running at the same time, at most.
    public var concurrency: Int
    /// Events waiting for or in delivery, at most; past it submissions are refused (the journal keeps them).
    public var queueCapacity: Int
    /// `PATH` of the hook (also used to find a bare program name).
    public var searchPath: String
    /// Bytes of stdout and of stderr kept per run.
    public var outputLimit: Int
    /// SIGTERM-to-SIGKILL delay on timeout; zero kills at once.
    public var terminationGrace: Duration

    /// Creates a configuration.
    /// - Parameters:
    ///   - name: Sink name.
    ///   - argv: Program and arguments with placeholders.
    ///   - timeout: Limit of one run (config `timeout_seconds`).
    ///   - maxAttempts: Attempts in all (config `max_attempts`).
    ///   - concurrency: Parallel runs (config `concurrency`).
    ///   - queueCapacity: Events admitted at once (default 10 000).
    ///   - searchPath: Hook `PATH` (default `defaultSearchPath`).
    ///   - outputLimit: Bytes kept per output stream (default 64 KiB).
    ///   - terminationGrace: SIGTERM-to-SIGKILL delay (default 1 s).
    public init(
        name: String,
        argv: [String],
        timeout: Duration,
        maxAttempts: Int,
        concurrency: Int,
        queueCapacity: Int = 10_000,
        searchPath: String = ExecSinkConfiguration.defaultSearchPath,
        outputLimit: Int = 64 * 1024,
        terminationGrace: Duration = .seconds(1)
    ) {
        self.name = name
        self.argv = argv
        self.timeout = timeout
        self.maxAttempts = max(1, maxAttempts)
        self.concurrency = max(1, concurrency)
        self.queueCapacity = max(1, queueCapacity)
        self.searchPath = searchPath
        self.outputLimit = outputLimit
        self.terminationGrace = terminationGrace
    }
}
