import Glibc

/// The one error of the POSIX module: a system call failed with `errno`.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call's name, e.g. `fsync` or `epoll_ctl(ADD)`.
    public var call: String
    /// The error number the call set.
    public var errno: Int32
    /// Context (a path); empty when there is none. Never event data.
    public var detail: String

    /// Creates an error.
    /// - Parameters:
    ///   - call: The call's name.
    ///   - errno: The error number.
    ///   - detail: Context, such as a path.
    public init(call: String, errno: Int32, detail: String = "") {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    /// An error for `call` with the calling thread's `errno` now.
    public static func fromErrno(_ call: String, detail: String = "") -> SystemCallError {
        SystemCallError(call: call, errno: Glibc.errno, detail: detail)
    }

    /// For example `fsync failed: Input/output error [errno 5] (/var/lib/x)`.
    public var description: String {
        let context = detail.isEmpty ? "" : " (\(detail))"
        return "\(call) failed: \(systemErrorMessage(errno)) [errno \(errno)]\(context)"
    }
}
