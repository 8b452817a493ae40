import CSystem
import Glibc

/// Why a hook process could not be started.
public enum ProcessRunnerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The program name was not an existing executable file, directly or on the search path.
    case executableNotFound(String)
    /// An argument or environment entry cannot be passed to `execve` (it contains a NUL byte or, for an
    /// environment name, `=`).
    case invalidArgument(String)
    /// A system call failed: its name and errno.
    case systemCall(String, errno: Int32)

    public var description: String {
        switch self {
        case .executableNotFound(let name): "executable not found: \(name)"
        case .invalidArgument(let what): "invalid argument: \(what)"
        case .systemCall(let call, let code): "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

/// Small syscall helpers for the process runner: EINTR retried, errors carry errno and the call name.
enum ProcessRunnerSyscall {
    /// Creates a close-on-exec pipe (both ends blocking); `[read, write]`.
    static func pipe() throws(ProcessRunnerError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if csystem_pipe_cloexec(&fds, 0) != 0 {
            throw .systemCall("pipe2", errno: errno)
        }
        return (fds[0], fds[1])
    }

    /// Sets O_NONBLOCK on a descriptor.
    static func setNonBlocking(_ fd: Int32) throws(ProcessRunnerError) {
        if csystem_set_nonblocking(fd) != 0 {
            throw .systemCall("fcntl(O_NONBLOCK)", errno: errno)
        }
    }

    /// Closes a descriptor; EINTR is not retried (Linux releases the descriptor anyway).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `kill(2)` ignoring ESRCH (the target is already gone).
    static func signalGroup(_ pgid: pid_t, _ signal: Int32) {
        _ = Glibc.kill(-pgid, signal)
    }
}
