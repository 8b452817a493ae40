import CSystem

/// How one run of a child process ended.
public struct ProcessRunnerResult: Sendable {
    /// How the child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        /// Exited by itself with this status.
        case exited(Int32)
        /// Killed by this signal, not by the runner.
        case signaled(Int32)
        /// Ran past its timeout; its process group was killed.
        case timedOut
        /// Killed on request (`ProcessRunnerHandle.kill()`), e.g. at shutdown.
        case killed
        /// Its status was collected by someone else (e.g. SIGCHLD set to SIG_IGN): unknown.
        case unknown

        /// How a child reaped with `waitpid` (`reaped`: whether it returned the child, `status` its status) ended,
        /// given whether its timeout had passed and whether a kill was asked for. A timeout wins (an exit after the
        /// deadline is late, whatever its status). A kill asked for counts only when the child did not exit by itself:
        /// the kill of a child that had already exited (a zombie not yet reaped) reached nothing, and a hook that
        /// exited 0 did its work — reported killed, its event would run again.
        static func of(reaped: Bool, status: Int32, timedOut: Bool, killRequested: Bool) -> Termination {
            if timedOut { return .timedOut }
            if reaped && csystem_wifexited(status) != 0 { return .exited(csystem_wexitstatus(status)) }
            if killRequested { return .killed }
            if reaped && csystem_wifsignaled(status) != 0 { return .signaled(csystem_wtermsig(status)) }
            return .unknown
        }

        public var description: String {
            switch self {
            case .exited(let code): "exit \(code)"
            case .signaled(let signal): "signal \(signal)"
            case .timedOut: "timeout"
            case .killed: "killed"
            case .unknown: "status unknown"
            }
        }
    }

    /// The first bytes of one output stream, and how many more were discarded.
    public struct Output: Sendable, Equatable {
        /// Bytes kept, at most the request's `outputLimit`.
        public var bytes: [UInt8]
        /// Bytes read past the limit and discarded.
        public var discardedCount: Int

        /// Creates an output record.
        public init(bytes: [UInt8] = [], discardedCount: Int = 0) {
            self.bytes = bytes
            self.discardedCount = discardedCount
        }
    }

    /// The child's process id (also its process group id).
    public var pid: Int32
    /// How it ended.
    public var termination: Termination
    /// Captured stdout.
    public var stdout: Output
    /// Captured stderr.
    public var stderr: Output
    /// Bytes of stdin the child accepted before it closed its end or exited.
    public var stdinWritten: Int
    /// From spawn to the end of the run.
    public var duration: Duration

    /// True when the child exited with status 0.
    public var succeeded: Bool { termination == .exited(0) }
}
