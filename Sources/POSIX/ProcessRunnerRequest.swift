/// What to run: a program, its arguments, a clean environment, bytes for stdin and the limits of one run.
public struct ProcessRunnerRequest: Sendable {
    /// Absolute (or relative, containing `/`) path of the program, or a bare name looked up in `searchPath`.
    public var executable: String
    /// Arguments after `argv[0]` (which is `executable` as given). Passed to `execve` as they are: no shell.
    public var arguments: [String]
    /// The child's whole environment; nothing of the daemon's own environment is inherited.
    public var environment: [String: String]
    /// Colon-separated folders searched for a bare `executable` name; defaults to `environment["PATH"]`.
    public var searchPath: String?
    /// Bytes written to the child's stdin, then stdin is closed. A child that does not read them is fine.
    public var stdin: [UInt8]
    /// The child's working directory (default `/`), so it does not start inside the daemon's state directory.
    public var workingDirectory: String
    /// Wall-clock limit from spawn; when it passes the child's whole process group is killed.
    public var timeout: Duration
    /// Time between SIGTERM and SIGKILL to the group on timeout; zero sends SIGKILL at once.
    public var terminationGrace: Duration
    /// Bytes kept of stdout and of stderr each; the rest is read, counted and discarded.
    public var outputLimit: Int
    /// How long, after the child exited, output pipes are still read before they are closed: a background
    /// grandchild that keeps them open must not keep the run going.
    public var outputDrainGrace: Duration

    /// Creates a request.
    /// - Parameters:
    ///   - executable: Program path or bare name.
    ///   - arguments: Arguments after `argv[0]`.
    ///   - environment: The complete environment of the child.
    ///   - searchPath: Folders for a bare name (default: `environment["PATH"]`).
    ///   - stdin: Bytes for the child's stdin.
    ///   - workingDirectory: The child's working directory (default `/`).
    ///   - timeout: Limit of the run.
    ///   - terminationGrace: SIGTERM-to-SIGKILL delay on timeout (default 0: SIGKILL at once).
    ///   - outputLimit: Bytes kept per output stream (default 64 KiB).
    ///   - outputDrainGrace: Output reading time after exit (default 250 ms).
    public init(
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        searchPath: String? = nil,
        stdin: [UInt8] = [],
        workingDirectory: String = "/",
        timeout: Duration,
        terminationGrace: Duration = .zero,
        outputLimit: Int = 64 * 1024,
        outputDrainGrace: Duration = .milliseconds(250)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.searchPath = searchPath
        self.stdin = stdin
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.terminationGrace = terminationGrace
        self.outputLimit = outputLimit
        self.outputDrainGrace = outputDrainGrace
    }
}
