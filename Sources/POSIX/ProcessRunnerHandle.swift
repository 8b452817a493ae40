/// A running child started by `ProcessRunner`.
public final class ProcessRunnerHandle: Sendable {
    private let supervisor: ProcessRunnerSupervisor

    init(supervisor: ProcessRunnerSupervisor) {
        self.supervisor = supervisor
    }

    /// The child's process id, which is also its process group id.
    public var pid: Int32 { supervisor.pid }

    /// Kills the child's process group with SIGKILL unless the run has already ended; the run then completes
    /// with `.killed`.
    public func kill() {
        supervisor.kill()
    }
}
