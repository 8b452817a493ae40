import Glibc

/// A failed system call on a requeue marker, with its errno.
struct RequeueMarkerError: Error, Equatable, CustomStringConvertible {
    /// The system call.
    var call: String
    /// The file or folder.
    var path: String
    /// `errno` after the call.
    var errno: Int32

    init(_ call: String, path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    var description: String {
        "\(call) \(path): \(String(cString: strerror(errno)))"
    }
}
