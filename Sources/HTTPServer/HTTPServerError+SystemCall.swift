import POSIX

extension HTTPServerError {
    /// A failed system call of the POSIX layer as ``HTTPServerError/system(call:errno:)``.
    init(_ error: SystemCallError) {
        self = .system(call: error.call, errno: error.errno)
    }
}
