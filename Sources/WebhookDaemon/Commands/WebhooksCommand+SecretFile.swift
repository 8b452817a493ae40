import FoundationEssentials
import Glibc
import POSIX

/// A secret file created new (`O_CREAT | O_EXCL`, mode 0600) before registering, so that a registration whose secret
/// cannot be stored is never made; filled and fsynced once the secret arrives.
final class NewSecretFile {
    /// Absolute path of the file.
    let path: String
    private var fd: Int32

    /// A problem creating or writing the file; carries the call and errno.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Creates the file; refuses to overwrite an existing one.
    init(path: String) throws(Failure) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let descriptor: Int32
        do {
            descriptor = try Syscall.open(absolute, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        } catch {
            if error.errno == EEXIST { throw Failure(description: "\(path) already exists; refusing to overwrite it") }
            throw Failure(
                description: "cannot create \(path): open: \(systemErrorMessage(error.errno)) (errno \(error.errno))"
            )
        }
        _ = fchmod(descriptor, 0o600)
        self.path = absolute
        fd = descriptor
    }

    /// Writes `secret` and a newline, fsyncs the file and its directory, and closes it.
    func write(_ secret: String) throws(Failure) {
        let bytes = Array((secret + "\n").utf8)
        let written = bytes.withUnsafeBytes { raw in
            Result { () throws(SystemCallError) in
                try Syscall.writeAll(fd, raw, detail: path)
                try Syscall.retrying("fsync", detail: path) { fsync(fd) }
            }
        }
        if case .failure(let error) = written { throw failure(error) }
        guard close(fd) == 0 else {
            fd = -1
            throw failure(.fromErrno("close"))
        }
        fd = -1
        do {
            try Syscall.syncDirectory(Syscall.parentDirectory(of: path))
        } catch {
            throw failure(error)
        }
    }

    /// Closes and removes the (still empty) file, after a registration failed.
    func discard() {
        if fd >= 0 {
            _ = close(fd)
            fd = -1
        }
        _ = unlink(path)
    }

    private func failure(_ error: SystemCallError) -> Failure {
        Failure(description: "\(error.call) \(path): \(systemErrorMessage(error.errno)) (errno \(error.errno))")
    }

    deinit {
        if fd >= 0 { _ = close(fd) }
    }
}
