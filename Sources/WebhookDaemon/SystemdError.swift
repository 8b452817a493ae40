import Glibc

/// Why a systemd integration (socket activation, `sd_notify`) could not be set up or used.
public struct SystemdError: Error, Equatable, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// The failing system call, when one failed.
    public let call: String?
    /// Its errno, when a system call failed.
    public let errno: Int32?

    init(_ message: String, call: String? = nil, errno: Int32? = nil) {
        self.message = message
        self.call = call
        self.errno = errno
    }

    public var description: String {
        guard let call, let errno else { return message }
        return "\(message): \(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
