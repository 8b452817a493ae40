/// Why a hook process could not be started.
public enum ProcessRunnerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The program name was not an existing executable file, directly or on the search path.
    case executableNotFound(String)
    /// An argument or environment entry cannot be passed to `execve` (it contains a NUL byte or, for an
    /// environment name, `=`).
    case invalidArgument(String)
    /// A system call failed: its name and errno.
    case systemCall(String, errno: Int32)

    /// Says what failed, with strerror(3) text for a failed call.
    public var description: String {
        switch self {
        case .executableNotFound(let name): "executable not found: \(name)"
        case .invalidArgument(let what): "invalid argument: \(what)"
        case .systemCall(let call, let code): "\(call) failed: \(systemErrorMessage(code)) (errno \(code))"
        }
    }
}

extension ProcessRunnerError {
    /// A failed system call as `.systemCall`.
    init(_ error: SystemCallError) {
        self = .systemCall(error.call, errno: error.errno)
    }
}
