import CSystem
import Glibc

/// Pipes, descriptor flags and signals for child processes.
extension Syscall {
    /// Creates a close-on-exec pipe (both ends blocking).
    public static func pipe() throws(SystemCallError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        try retrying("pipe2") { csystem_pipe_cloexec(&fds, 0) }
        return (fds[0], fds[1])
    }

    /// Sets `O_NONBLOCK` on a descriptor.
    public static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        try retrying("fcntl(O_NONBLOCK)") { csystem_set_nonblocking(fd) }
    }

    /// `kill(2)` of the process group `pgid`, ignoring errors (ESRCH: the group is already gone).
    public static func signalGroup(_ pgid: pid_t, _ signal: Int32) {
        _ = Glibc.kill(-pgid, signal)
    }
}
