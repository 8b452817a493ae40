import Glibc
import POSIX

/// The folder `<state_dir>/dead-letters/requeue/`: one empty file per dead letter an operator asked to retry,
/// named like the dead letter. `vipps-webhookd dead-letters retry` creates them; the running daemon
/// (`DeadLetterRequeue`) picks them up, re-queues the dead letters and removes them. A marker outlives restarts,
/// so a retry asked for while the daemon is stopped happens when it starts.
public struct RequeueMarkers: Sendable {
    /// Most markers `names()` returns at once (the rest are taken on later scans).
    public static let maxNamesPerScan = 1000

    /// The marker folder.
    public let directory: String

    /// The markers of `deadLetters` (nothing is touched on disk).
    public init(deadLetters: DeadLetterStore) {
        self.init(deadLetters: deadLetters, folder: "requeue")
    }

    /// Markers of the same shape in `<dead-letter folder>/<folder>` (see ``HookRanMarkers``).
    init(deadLetters: DeadLetterStore, folder: String) {
        directory = deadLetters.directory + "/" + folder
    }

    /// Creates the marker folder when missing (mode 0700). When run as root (an operator's `sudo`), the folder is
    /// given to the owner of the dead-letter folder, so the daemon's user can remove markers from it.
    public func createDirectory() throws(RequeueMarkerError) {
        if mkdir(directory, 0o700) != 0 {
            guard errno == EEXIST else { throw .init("mkdir", path: directory, errno: errno) }
            return
        }
        try giveToDaemonUser(directory)
        try Self.syncDirectory(Syscall.parentDirectory(of: directory))
    }

    /// Durably asks for the dead letter `name` to be retried; true when the marker is new, false when it was
    /// already there. `name` must satisfy `DeadLetterStore.isValidName`.
    @discardableResult
    public func create(_ name: String) throws(RequeueMarkerError) -> Bool {
        precondition(DeadLetterStore.isValidName(name), "unchecked dead-letter name")
        try createDirectory()
        let path = "\(directory)/\(name)"
        // An empty file: O_CREAT|O_EXCL is atomic, so no reader ever sees a half-made marker.
        let fd: Int32
        do {
            fd = try Syscall.open(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        } catch {
            guard error.errno == EEXIST else { throw .init("open", path: path, errno: error.errno) }
            return false
        }
        _ = close(fd)
        try giveToDaemonUser(path)
        try Self.syncDirectory(directory)
        return true
    }

    /// Whether a marker for `name` exists.
    public func contains(_ name: String) -> Bool {
        var info = stat()
        return DeadLetterStore.isValidName(name) && lstat("\(directory)/\(name)", &info) == 0
    }

    /// Names of the markers present (valid dead-letter names only, oldest event first, at most `maxNamesPerScan`);
    /// empty when the folder does not exist.
    public func names() throws(RequeueMarkerError) -> [String] {
        guard let stream = opendir(directory) else {
            guard errno == ENOENT else { throw .init("opendir", path: directory, errno: errno) }
            return []
        }
        defer { closedir(stream) }
        var names: [String] = []
        while names.count < Self.maxNamesPerScan {
            errno = 0
            guard let entry = readdir(stream) else {
                guard errno == 0 else { throw .init("readdir", path: directory, errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if DeadLetterStore.isValidName(name) { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes the marker of `name`; a missing one is not an error. Not synced: a marker that comes back after a
    /// crash only asks for a retry that either happens again or finds its dead letter gone.
    public func remove(_ name: String) throws(RequeueMarkerError) {
        let path = "\(directory)/\(name)"
        guard unlink(path) == 0 || errno == ENOENT else { throw .init("unlink", path: path, errno: errno) }
    }

    private func giveToDaemonUser(_ path: String) throws(RequeueMarkerError) {
        guard geteuid() == 0 else { return }
        let owner = Syscall.parentDirectory(of: directory)
        var info = stat()
        guard stat(owner, &info) == 0 else { throw .init("stat", path: owner, errno: errno) }
        guard info.st_uid != 0 || info.st_gid != 0 else { return }
        guard lchown(path, info.st_uid, info.st_gid) == 0 else { throw .init("lchown", path: path, errno: errno) }
    }

    private static func syncDirectory(_ path: String) throws(RequeueMarkerError) {
        do {
            try Syscall.syncDirectory(path)
        } catch {
            throw .init(error.call, path: path, errno: error.errno)
        }
    }
}
