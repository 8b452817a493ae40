import Glibc
import POSIX

/// An exclusive lock on a state directory, held as long as this value lives (the daemon keeps it for its whole
/// lifetime), so that a second daemon on the same directory stops before it opens the journal: it must not run
/// recovery (which cuts the tail) or migrations while a live daemon appends.
///
/// `flock(2)` with `LOCK_EX | LOCK_NB` on `<directory>/lock`, created when missing, opened `O_CLOEXEC` so that hooks
/// and other children never inherit it. The kernel releases the lock when the process exits, however it exits.
public final class StateDirectoryLock: Sendable {
    /// The lock file.
    public let path: String
    private let fd: Int32

    /// Takes the lock on `directory` (which must exist) without waiting.
    /// - Throws: ``StorageError`` with code `unavailable`, naming the directory, when another process holds the
    ///   lock; with the failed call's `errno` when the lock file cannot be opened or locked.
    public init(directory: String) throws {
        path = directory + "/lock"
        let file: SyscallFile
        do {
            file = try SyscallFile.openCreating(path: path, flags: O_RDWR, faults: nil)
        } catch {
            throw StorageError(error)
        }
        do {
            try Syscall.retrying("flock", detail: path) { flock(file.fd, LOCK_EX | LOCK_NB) }
        } catch {
            file.close()
            guard error.errno == EWOULDBLOCK else { throw StorageError(error) }
            throw StorageError(
                .unavailable,
                call: "lock",
                detail: "state_dir \(directory) is in use by another vipps-webhookd process (it holds \(path)); "
                    + "refusing to start on it"
            )
        }
        fd = file.fd
    }

    deinit {
        close(fd)
    }
}
