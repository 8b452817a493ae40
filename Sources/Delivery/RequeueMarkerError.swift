import Glibc

/// A failed system call on a requeue marker, with its errno.
public struct RequeueMarkerError: Error, Equatable, CustomStringConvertible {
    /// The system call.
    public var call: String
    /// The file or folder.
    public var path: String
    /// `errno` after the call.
    public var errno: Int32

    public init(_ call: String, path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(call) \(path): \(String(cString: strerror(errno)))"
    }
}
