import POSIX

/// Errors of the HTTPServer module.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The listen address is not `IPv4:port` or `[IPv6]:port`.
    case invalidListenAddress(String)
    /// A system call failed: its name and errno.
    case system(call: String, errno: Int32)
    /// `start()` was called on a server that was already started.
    case alreadyStarted
    /// bind(2) or listen(2) on `address` failed (e.g. the port is taken, or the address is not this machine's).
    case cannotListen(address: String, call: String, errno: Int32)
    /// A socket handed over to serve on (socket activation) is not a listening stream socket: a datagram socket, or
    /// one connection (`Accept=yes`).
    case notAListeningSocket(fd: Int32, reason: String)

    public var description: String {
        switch self {
        case .invalidListenAddress(let address):
            return "invalid listen address \"\(address)\" (expected IPv4:port or [IPv6]:port)"
        case .system(let call, let errno): return "\(call) failed: errno \(errno) (\(systemErrorMessage(errno)))"
        case .alreadyStarted: return "server already started"
        case .cannotListen(let address, let call, let errno):
            return "cannot listen on \(address): \(call) failed: errno \(errno) (\(systemErrorMessage(errno)))"
        case .notAListeningSocket(let fd, let reason):
            return "socket \(fd) cannot be served on: \(reason) (a ListenStream= socket with Accept=no is needed)"
        }
    }
}
