import Foundation
import Glibc

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
        var descriptor: Int32
        repeat {
            descriptor = open(absolute, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            if errno == EEXIST { throw Failure(description: "\(path) already exists; refusing to overwrite it") }
            throw Failure(
                description: "cannot create \(path): open: \(String(cString: strerror(errno))) (errno \(errno))"
            )
        }
        _ = fchmod(descriptor, 0o600)
        self.path = absolute
        fd = descriptor
    }

    /// Writes `secret` and a newline, fsyncs the file and its directory, and closes it.
    func write(_ secret: String) throws(Failure) {
        let bytes = Array((secret + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            offset += count
        }
        guard fsync(fd) == 0 else { throw failure("fsync") }
        guard close(fd) == 0 else {
            fd = -1
            throw failure("close")
        }
        fd = -1
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            _ = close(directory)
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

    private func failure(_ call: String) -> Failure {
        Failure(description: "\(call) \(path): \(String(cString: strerror(errno))) (errno \(errno))")
    }

    deinit {
        if fd >= 0 { _ = close(fd) }
    }
}
