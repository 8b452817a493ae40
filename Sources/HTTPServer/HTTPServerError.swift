/// Errors of the HTTPServer module.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The listen address is not `IPv4:port` or `[IPv6]:port`.
    case invalidListenAddress(String)
    /// A system call failed: its name and errno.
    case system(call: String, errno: Int32)
    /// `start()` was called on a server that was already started.
    case alreadyStarted

    public var description: String {
        switch self {
        case .invalidListenAddress(let address):
            return "invalid listen address \"\(address)\" (expected IPv4:port or [IPv6]:port)"
        case .system(let call, let errno): return "\(call) failed: errno \(errno) (\(systemErrorMessage(errno)))"
        case .alreadyStarted: return "server already started"
        }
    }
}
